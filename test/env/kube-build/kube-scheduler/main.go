// Command kube-scheduler is the Kubernetes scheduler, built from k8s.io/kubernetes by test/env/provision/kubernetes.sh
// (same main as upstream cmd/kube-scheduler; the go.mod is generated at build time).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
