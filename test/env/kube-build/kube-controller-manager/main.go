// Command kube-controller-manager is the Kubernetes controller manager, built from k8s.io/kubernetes by test/env/provision/kubernetes.sh
// (same main as upstream cmd/kube-controller-manager; the go.mod is generated at build time).
package main

import (
	"os"
	_ "time/tzdata" // time zone data for CronJob schedules

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
