{{/* The release's resource name. */}}
{{- define "pes.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pes.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pes.labels" -}}
{{ include "pes.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pes.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pes.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the token: the one named, or the chart's. */}}
{{- define "pes.tokenSecret" -}}
{{- if .Values.token.existingSecret -}}
{{- .Values.token.existingSecret -}}
{{- else -}}
{{- printf "%s-token" (include "pes.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "pes.dsnSecret" -}}
{{- if .Values.store.postgres.existingSecret -}}
{{- .Values.store.postgres.existingSecret -}}
{{- else -}}
{{- printf "%s-dsn" (include "pes.fullname" .) -}}
{{- end -}}
{{- end -}}
