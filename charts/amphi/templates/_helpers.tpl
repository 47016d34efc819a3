{{/* Chart name, truncated to 63 characters. */}}
{{- define "amphi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name; component names append "-<component>" (kept ≤ 63 with them). */}}
{{- define "amphi.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "amphi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "amphi.labels" -}}
helm.sh/chart: {{ include "amphi.chart" .ctx }}
{{ include "amphi.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: amphi
{{- end -}}

{{- define "amphi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "amphi.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* Image reference; call with (dict "ctx" $ "image" .Values.operator.image). */}}
{{- define "amphi.image" -}}
{{- $registry := .ctx.Values.global.imageRegistry -}}
{{- $repo := .image.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $registry) $repo -}}{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{- define "amphi.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Names of the generated Secrets. */}}
{{- define "amphi.secretName" -}}{{ include "amphi.fullname" . }}-secrets{{- end -}}
{{- define "amphi.roomNamespace" -}}{{ default .Release.Namespace .Values.controlApi.roomNamespace }}{{- end -}}

{{/*
A generated secret value that survives upgrades: the value already stored in the release's Secret
(lookup), else a fresh random one. Call with (dict "ctx" $ "key" "join-token-secret" "length" 48).
*/}}
{{- define "amphi.generated" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace (include "amphi.secretName" .ctx) -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- randAlphaNum (int .length) | b64enc -}}
{{- end -}}
{{- end -}}

{{/* Redis env: REDIS_PASSWORD (if any) then REDIS_URL. */}}
{{- define "amphi.redisEnv" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default (include "amphi.secretName" .) .Values.redis.auth.existingSecret }}
      key: {{ .Values.redis.auth.existingSecretKey }}
- name: REDIS_URL
  value: "redis://:$(REDIS_PASSWORD)@{{ include "amphi.fullname" . }}-redis.{{ .Release.Namespace }}.svc:6379"
{{- else }}
- name: REDIS_URL
  value: "redis://{{ include "amphi.fullname" . }}-redis.{{ .Release.Namespace }}.svc:6379"
{{- end }}
{{- else if .Values.redis.external.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.existingSecretKey }}
{{- else }}
- name: REDIS_URL
  value: {{ required "redis.external.url (or redis.external.existingSecret) is required when redis.enabled is false" .Values.redis.external.url | quote }}
{{- end }}
{{- end -}}

{{/*
  What the operator hands the media pods for Redis, as references: they get REDIS_PASSWORD (or the
  whole URL) from the Secret themselves, so no password is written into their StatefulSets.
  "$$(" reaches the operator as a literal "$(" for the media pods' kubelet to expand.
*/}}
{{- define "amphi.mediaRedisEnv" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
- name: AMPHI_MEDIA_REDIS_URL
  value: "redis://:$$(REDIS_PASSWORD)@{{ include "amphi.fullname" . }}-redis.{{ .Release.Namespace }}.svc:6379"
- name: AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME
  value: {{ default (include "amphi.secretName" .) .Values.redis.auth.existingSecret | quote }}
- name: AMPHI_MEDIA_REDIS_PASSWORD_SECRET_KEY
  value: {{ .Values.redis.auth.existingSecretKey | quote }}
{{- else }}
- name: AMPHI_MEDIA_REDIS_URL
  value: "redis://{{ include "amphi.fullname" . }}-redis.{{ .Release.Namespace }}.svc:6379"
{{- end }}
{{- else if .Values.redis.external.existingSecret }}
- name: AMPHI_MEDIA_REDIS_URL_SECRET_NAME
  value: {{ .Values.redis.external.existingSecret | quote }}
- name: AMPHI_MEDIA_REDIS_URL_SECRET_KEY
  value: {{ .Values.redis.external.existingSecretKey | quote }}
{{- end }}
{{- end -}}

{{- define "amphi.cassandraContactPoints" -}}
{{- if .Values.cassandra.enabled -}}
{{ include "amphi.fullname" . }}-cassandra.{{ .Release.Namespace }}.svc:9042
{{- else -}}
{{ .Values.cassandra.external.contactPoints }}
{{- end -}}
{{- end -}}
