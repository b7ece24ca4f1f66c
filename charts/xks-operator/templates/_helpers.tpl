{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "xks-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, with the chart name unless the release name already holds it.
*/}}
{{- define "xks-operator.fullname" -}}
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

{{/*
Chart label value: name-version.
*/}}
{{- define "xks-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels the operator's pods are selected by. Never change these on upgrade: a Deployment's selector is immutable.
*/}}
{{- define "xks-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xks-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Labels on every object the chart renders.
*/}}
{{- define "xks-operator.labels" -}}
helm.sh/chart: {{ include "xks-operator.chart" . }}
{{ include "xks-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: xks-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Name of the operator's ServiceAccount.
*/}}
{{- define "xks-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "xks-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Operator image reference: repository:tag (tag defaults to the chart's appVersion), or repository@digest.
*/}}
{{- define "xks-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Default XKS proxy image for Vaults that do not set spec.proxy.image.
*/}}
{{- define "xks-operator.proxyImage" -}}
{{- if .Values.proxy.image.digest }}
{{- printf "%s@%s" .Values.proxy.image.repository .Values.proxy.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.proxy.image.repository (default .Chart.AppVersion .Values.proxy.image.tag) }}
{{- end }}
{{- end }}

{{/*
Namespace holding the leader-election Lease: leaderElection.namespace or the release namespace.
*/}}
{{- define "xks-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
Namespace the operator watches when rbac.namespaced is true: the watchNamespaces item, or the release namespace when
the list is empty (values.schema.json allows one item; the operator watches one namespace or all).
*/}}
{{- define "xks-operator.watchNamespaces" -}}
{{- if .Values.watchNamespaces }}
{{- first .Values.watchNamespaces }}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
The rules the operator needs on the namespaces it manages. Shared by the ClusterRole (rbac.namespaced=false) and by
the per-namespace Roles (rbac.namespaced=true), so both modes grant exactly the same verbs.
- xks.dev: reads its custom resources, adds/removes finalizers, writes status through the status subresource.
- Secrets: proxy config, master key, SigV4 credentials; it reads CspAccount credential Secrets, PKCS#11 PIN Secrets and existing TLS
  Secrets. It must hold get/list/watch on Secrets itself because it grants them to each Vault's proxy Role.
- ServiceAccounts, Services, Deployments, PodDisruptionBudgets, Ingresses, Roles, RoleBindings and cert-manager
  Certificates: the children of a Vault, restored when edited or deleted.
- Events: one per state change and failure (core and events.k8s.io).
*/}}
{{- define "xks-operator.operandRules" -}}
- apiGroups: ["xks.dev"]
  resources: ["vaults", "cspaccounts", "keysets", "cloudkeys"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["xks.dev"]
  resources: ["vaults/status", "cspaccounts/status", "keysets/status", "cloudkeys/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["xks.dev"]
  resources: ["vaults/finalizers", "cspaccounts/finalizers", "keysets/finalizers", "cloudkeys/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets", "serviceaccounts", "services"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses", "networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
{{- end }}

{{/*
What only an operator watching every namespace needs (rbac.namespaced=false): the cluster-scoped ClusterCspAccounts it
verifies, and the Namespaces whose labels say which of them a KeySet may use.
*/}}
{{- define "xks-operator.clusterRules" -}}
- apiGroups: ["xks.dev"]
  resources: ["clustercspaccounts"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["xks.dev"]
  resources: ["clustercspaccounts/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{/* The user roles' read access to Events (the operator's refusals and transitions, shown by kubectl describe). */}}
{{- define "xks-operator.userRoles.events" }}
  - apiGroups: ["", "events.k8s.io"]
    resources: ["events"]
    verbs: ["get", "list", "watch"]
{{- end }}

{{/*
"true" when the monitoring.coreos.com objects (ServiceMonitor, PodMonitor, PrometheusRule) are rendered: the cluster
serves monitoring.coreos.com/v1 (helm install/upgrade discovers it; helm template needs --api-versions
monitoring.coreos.com/v1), or monitoring.force says so.
*/}}
{{- define "xks-operator.monitoringApi" -}}
{{- if or .Values.monitoring.force (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}
true
{{- end -}}
{{- end }}
