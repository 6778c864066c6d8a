{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "faas-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or fullnameOverride. */}}
{{- define "faas-bridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "faas-bridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "faas-bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "faas-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "faas-bridge.labels" -}}
helm.sh/chart: {{ include "faas-bridge.chart" . }}
{{ include "faas-bridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "faas-bridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "faas-bridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "faas-bridge.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret with basic-auth-user / basic-auth-password. */}}
{{- define "faas-bridge.basicAuthSecret" -}}
{{- default (printf "%s-basic-auth" (include "faas-bridge.fullname" .)) .Values.basicAuth.existingSecret }}
{{- end }}

{{/* The backends as YAML (read back with fromYaml): .Values.backends, or one local backend. */}}
{{- define "faas-bridge.backends" -}}
{{- if .Values.backends }}
{{- toYaml .Values.backends }}
{{- else }}
{{- toYaml (dict "local" (dict "driver" "local" "namespaces" (list .Values.provider.functionNamespace))) }}
{{- end }}
{{- end }}

{{/* "true" when a backend runs the local driver (the driver defaults to the backend's name). */}}
{{- define "faas-bridge.usesLocal" -}}
{{- $found := false }}
{{- range $name, $b := include "faas-bridge.backends" . | fromYaml }}
{{- if eq (default $name $b.driver) "local" }}{{ $found = true }}{{ end }}
{{- end }}
{{- $found }}
{{- end }}

{{/* "true" when a backend talks to the Kubernetes API (kubernetes, tekton). */}}
{{- define "faas-bridge.usesKubernetes" -}}
{{- $found := false }}
{{- range $name, $b := include "faas-bridge.backends" . | fromYaml }}
{{- if hasKey $.Values.rbac.rules (default $name $b.driver) }}{{ $found = true }}{{ end }}
{{- end }}
{{- $found }}
{{- end }}

{{/* "true" when the replicas elect a leader (only it autoscales): leaderElection.enabled, or by default replicaCount > 1. */}}
{{- define "faas-bridge.leaderElection" -}}
{{- $mode := toString .Values.leaderElection.enabled }}
{{- if eq $mode "true" }}true
{{- else if eq $mode "false" }}false
{{- else }}{{ gt (int .Values.replicaCount) 1 }}
{{- end }}
{{- end }}
