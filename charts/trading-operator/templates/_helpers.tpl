{{/*
Names, labels and checks shared by every template. Nothing here reads the clock or randomness: rendering the same
release twice gives the same bytes, so `helm upgrade` with unchanged values restarts nothing.
*/}}

{{/* The chart name, or nameOverride; the app.kubernetes.io/name label. */}}
{{- define "trading-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The resource name prefix: fullnameOverride, else the release name when it already contains the chart name, else
<release>-<chart>. 63 characters at most (DNS label).
*/}}
{{- define "trading-operator.fullname" -}}
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

{{/* name-version for the helm.sh/chart label ("+" is not allowed in label values). */}}
{{- define "trading-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Kubernetes recommended labels, on every object. */}}
{{- define "trading-operator.labels" -}}
helm.sh/chart: {{ include "trading-operator.chart" . }}
{{ include "trading-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: nexus
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The immutable subset that selects the operator's pods (Deployment, Service, PDB, spread constraints). */}}
{{- define "trading-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trading-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "trading-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "trading-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The leader-election Lease. The operator is told this name (--lease-name) and the Role grants get/update on this
name only, so the two must come from here.
*/}}
{{- define "trading-operator.leaseName" -}}
nexus-operator-leader
{{- end }}

{{/* repository:tag, or repository@digest when a digest pins the image. */}}
{{- define "trading-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Cross-field checks the schema cannot express; each fails the render with the values to change. Included by the
Deployment, so every install, upgrade and template runs them.
*/}}
{{- define "trading-operator.validate" -}}
{{- $le := .Values.leaderElection }}
{{- if and (not $le.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount=%d needs leaderElection.enabled=true: without it every replica reconciles at once" (int .Values.replicaCount)) }}
{{- end }}
{{- if $le.enabled }}
{{- if le (int $le.leaseDurationSeconds) (int $le.renewDeadlineSeconds) }}
{{- fail (printf "leaderElection.leaseDurationSeconds (%d) must exceed leaderElection.renewDeadlineSeconds (%d)" (int $le.leaseDurationSeconds) (int $le.renewDeadlineSeconds)) }}
{{- end }}
{{- if le (int $le.renewDeadlineSeconds) (int $le.retryPeriodSeconds) }}
{{- fail (printf "leaderElection.renewDeadlineSeconds (%d) must exceed leaderElection.retryPeriodSeconds (%d)" (int $le.renewDeadlineSeconds) (int $le.retryPeriodSeconds)) }}
{{- end }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.health.port) }}
{{- fail (printf "metrics.port and health.port must differ (both %d)" (int .Values.metrics.port)) }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled=true needs metrics.service.enabled=true: a ServiceMonitor scrapes through the Service" }}
{{- end }}
{{- end }}

{{/*
A label map as the operator's flags take it: k=v,k=v, sorted by key.
*/}}
{{- define "trading-operator.labelPairs" -}}
{{- $pairs := list -}}
{{- range $key, $value := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end }}
