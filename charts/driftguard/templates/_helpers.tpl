{{/*
Every object is named driftguard: the server manages its three webhook configurations by these names
(src/install/webhooks.ts) and the RBAC grants them by name, so one release per cluster.
*/}}
{{- define "driftguard.labels" -}}
app.kubernetes.io/name: driftguard
app.kubernetes.io/part-of: driftguard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "driftguard.tlsSecret" -}}
{{- if eq .Values.certs.mode "provided" -}}
{{- required "certs.provided.secretName is required with certs.mode=provided" .Values.certs.provided.secretName -}}
{{- else -}}
driftguard-tls
{{- end -}}
{{- end }}

{{- define "driftguard.dnsNames" -}}
- driftguard
- driftguard.{{ .Release.Namespace }}
- driftguard.{{ .Release.Namespace }}.svc
- driftguard.{{ .Release.Namespace }}.svc.cluster.local
{{- end }}
