{{/* Names are cut at 63 characters: the limit of a DNS label. */}}
{{- define "upvest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
  The prefix of every resource name. Templates append up to 8 characters (-migrate, the longest of -api, -worker,
  -tls and -migrate), so it is cut at 63 - 8 = 55.
*/}}
{{- define "upvest.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels of one component; called with (dict "root" $ "component" "api"). */}}
{{- define "upvest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "upvest.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "upvest.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "upvest.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "upvest.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "upvest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "upvest.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "upvest.secretName" -}}
{{- default (include "upvest.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "upvest.ingressPath" -}}
{{- default .Values.webhook.path .Values.ingress.path }}
{{- end }}

{{/* The URL registered at Upvest: what the provider signs, so also WEBHOOK_PUBLIC_URL. */}}
{{- define "upvest.publicUrl" -}}
{{- if .Values.webhook.publicUrl }}
{{- .Values.webhook.publicUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.host }}
{{- printf "%s://%s%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host (include "upvest.ingressPath" .) }}
{{- end }}
{{- end }}

{{/* WEBHOOK_BODY_LIMIT_BYTES as the service reads it: the configured value or the service's default, 5 MiB. */}}
{{- define "upvest.bodyLimitBytes" -}}
{{- index .Values.config "WEBHOOK_BODY_LIMIT_BYTES" | default 5242880 | int64 | toString }}
{{- end }}

{{/* ConfigMap data, shared by the release's ConfigMap and the migration hook's copy. The chart's own keys win. */}}
{{- define "upvest.configData" -}}
{{- $data := dict }}
{{- range $key, $value := .Values.config }}
{{- if ne (toString $value) "" }}{{ $_ := set $data $key (toString $value) }}{{ end }}
{{- end }}
{{- $_ := set $data "PORT" (toString .Values.containerPorts.http) }}
{{- $_ := set $data "METRICS_PORT" (toString .Values.containerPorts.metrics) }}
{{- $_ := set $data "METRICS_PATH" .Values.metricsPath }}
{{- $_ := set $data "WEBHOOK_PATH" .Values.webhook.path }}
{{- with include "upvest.publicUrl" . }}{{ $_ := set $data "WEBHOOK_PUBLIC_URL" . }}{{ end }}
{{- range $key, $value := $data }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Secret data from values; only used without secrets.existingSecret. */}}
{{- define "upvest.secretData" -}}
{{- range $key, $value := .Values.secrets.values }}
{{- if ne (toString $value) "" }}
{{ $key }}: {{ toString $value | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The service must finish its graceful shutdown before Kubernetes kills it. */}}
{{- define "upvest.checkGracePeriod" -}}
{{- $shutdownMs := int (index .root.Values.config "SHUTDOWN_TIMEOUT_MS" | default "25000") }}
{{- $neededSeconds := add (div (add $shutdownMs 999) 1000) .values.preStopSleepSeconds }}
{{- if lt (int .values.terminationGracePeriodSeconds) (int $neededSeconds) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%v) must be at least preStopSleepSeconds + SHUTDOWN_TIMEOUT_MS (%v s)" .component .values.terminationGracePeriodSeconds $neededSeconds) }}
{{- end }}
{{- end }}
