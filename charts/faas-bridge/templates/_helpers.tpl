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

{{/*
The password of the Secret the chart creates: basicAuth.password when given; else the one the
release's Secret already holds (lookup; so `helm upgrade` keeps it); else a new random one
(first install). lookup returns nothing under `helm template` and --dry-run without a cluster.
*/}}
{{- define "faas-bridge.basicAuthPassword" -}}
{{- if .Values.basicAuth.password }}
{{- .Values.basicAuth.password }}
{{- else }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "faas-bridge.basicAuthSecret" .) }}
{{- $kept := dig "data" "basic-auth-password" "" ($secret | default dict) }}
{{- if $kept }}
{{- $kept | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the chart creates the basic-auth Secret with a password it chose (NOTES.txt tells how to read it). */}}
{{- define "faas-bridge.generatesPassword" -}}
{{- and .Values.basicAuth.enabled (not .Values.basicAuth.existingSecret) (not .Values.basicAuth.password) }}
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

{{/* "true" when a backend talks to the Kubernetes API (kubernetes, tekton), or Function resources are reconciled. */}}
{{- define "faas-bridge.usesKubernetes" -}}
{{- $found := not (empty .Values.functionResources.namespaces) }}
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
