{{/*
Names and labels, after Bitnami's common helpers: standard app.kubernetes.io labels from small
helpers, selectors on name and instance only. A service's name is its folder, image and values key.
*/}}

{{- define "qlcb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "qlcb.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "qlcb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The object name of a part: qlcb.componentName (dict "root" $ "name" "personnel") */}}
{{- define "qlcb.componentName" -}}
{{- printf "%s-%s" (include "qlcb.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object of a part: qlcb.labels.standard (dict "root" $ "name" "personnel") */}}
{{- define "qlcb.labels.standard" -}}
{{ include "qlcb.labels.matchLabels" . }}
app.kubernetes.io/part-of: {{ include "qlcb.name" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "qlcb.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels: name and instance only */}}
{{- define "qlcb.labels.matchLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The image of a service: qlcb.image (dict "root" $ "name" "personnel" "svc" $svc) */}}
{{- define "qlcb.image" -}}
{{- $global := .root.Values.image -}}
{{- $own := .svc.image | default dict -}}
{{- $registry := coalesce .root.Values.global.imageRegistry $own.registry $global.registry -}}
{{- $repository := $own.repository | default (printf "%s/%s" $global.repository .name) -}}
{{- $digest := $own.digest | default $global.digest -}}
{{- $tag := $own.tag | default $global.tag | default .root.Chart.AppVersion -}}
{{- $ref := ternary $repository (printf "%s/%s" $registry $repository) (empty $registry) -}}
{{- if $digest -}}
{{- printf "%s@%s" $ref $digest -}}
{{- else -}}
{{- printf "%s:%s" $ref $tag -}}
{{- end -}}
{{- end -}}

{{- define "qlcb.pullPolicy" -}}
{{- $own := .svc.image | default dict -}}
{{- $own.pullPolicy | default .root.Values.image.pullPolicy -}}
{{- end -}}

{{- define "qlcb.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "qlcb.serviceAccountName" -}}
{{- if .svc.serviceAccount.create -}}
{{- .svc.serviceAccount.name | default (include "qlcb.componentName" .) -}}
{{- else -}}
{{- .svc.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "qlcb.secretName" -}}
{{- .svc.existingSecret | default (include "qlcb.componentName" .) -}}
{{- end -}}

{{- define "qlcb.tlsSecretName" -}}
{{- .svc.tlsSecret | default (printf "%s-tls" (include "qlcb.componentName" .)) -}}
{{- end -}}

{{/* The environment variable prefix of a service: QLCB_PERSONNEL_ */}}
{{- define "qlcb.envPrefix" -}}
{{- printf "QLCB_%s_" (.name | upper) -}}
{{- end -}}

{{/* Whether a service mounts its tlsSecret: it serves TLS, calls a TLS service or checks NATS's CA */}}
{{- define "qlcb.mountsTls" -}}
{{- $tls := .root.Values.tls.enabled -}}
{{- if and $tls (or (eq .svc.kind "grpc") .svc.tlsServer .svc.backends .svc.callsIdentity) -}}
true
{{- else if and .root.Values.nats.caFromTlsSecret .svc.uses.nats -}}
true
{{- end -}}
{{- end -}}

{{/* Whether the service's API port speaks TLS */}}
{{- define "qlcb.servesTls" -}}
{{- if and .root.Values.tls.enabled (or (eq .svc.kind "grpc") .svc.tlsServer) -}}
true
{{- end -}}
{{- end -}}

{{/* The API port of a service: grpc for gRPC services, http for the others */}}
{{- define "qlcb.apiPort" -}}
{{- if eq .svc.kind "grpc" -}}{{ .svc.ports.grpc }}{{- else -}}{{ .svc.ports.http }}{{- end -}}
{{- end -}}

{{/* The port Prometheus scrapes and the probes read: ops for gRPC services, the API port otherwise */}}
{{- define "qlcb.opsPort" -}}
{{- if eq .svc.kind "grpc" -}}{{ .svc.ports.ops }}{{- else -}}{{ .svc.ports.http }}{{- end -}}
{{- end -}}

{{- define "qlcb.opsPortName" -}}
{{- if eq .svc.kind "grpc" -}}ops{{- else -}}http{{- end -}}
{{- end -}}

{{/*
A service's plain settings, as the ConfigMap's data: what the chart sets (QLCB_ENVIRONMENT, OIDC,
addresses, ports, certificate files, the realm files) then the service's own `settings`.
*/}}
{{- define "qlcb.configData" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $prefix := include "qlcb.envPrefix" . -}}
{{- $tlsDir := $root.Values.tls.mountPath -}}
{{- $data := dict "QLCB_ENVIRONMENT" $root.Values.environment -}}
{{- range $key, $value := $root.Values.oidc -}}
{{- if not (kindIs "invalid" $value) -}}
{{- $_ := set $data (printf "QLCB_OIDC_%s" (upper $key)) (include "qlcb.envValue" $value) -}}
{{- end -}}
{{- end -}}
{{- if eq $svc.kind "http" -}}
{{- range $key, $value := $root.Values.http -}}
{{- $_ := set $data (printf "QLCB_HTTP_%s" (upper $key)) (include "qlcb.envValue" $value) -}}
{{- end -}}
{{- $_ := set $data (printf "%sPORT" $prefix) (toJson $svc.ports.http) -}}
{{- else -}}
{{- $_ := set $data (printf "%sGRPC_PORT" $prefix) (toJson $svc.ports.grpc) -}}
{{- $_ := set $data (printf "%sOPS_PORT" $prefix) (toJson $svc.ports.ops) -}}
{{- end -}}
{{- $_ := set $data (printf "%sHOST" $prefix) "0.0.0.0" -}}
{{- if $svc.uses.nats -}}
{{- $_ := set $data (printf "%sNATS_URL" $prefix) $root.Values.nats.url -}}
{{- $_ := set $data (printf "%sNATS_USER" $prefix) .name -}}
{{- $_ := set $data (printf "%sNATS_STREAM_REPLICAS" $prefix) (toJson $root.Values.nats.streamReplicas) -}}
{{- if $root.Values.nats.caFromTlsSecret -}}
{{- $_ := set $data (printf "%sNATS_TLS_CA_FILE" $prefix) (printf "%s/ca.crt" $tlsDir) -}}
{{- end -}}
{{- end -}}
{{- if $root.Values.tls.enabled -}}
{{- if eq $svc.kind "grpc" -}}
{{- $_ := set $data (printf "%sGRPC_TLS_CERT_FILE" $prefix) (printf "%s/tls.crt" $tlsDir) -}}
{{- $_ := set $data (printf "%sGRPC_TLS_KEY_FILE" $prefix) (printf "%s/tls.key" $tlsDir) -}}
{{- if $root.Values.tls.requireClientCertificates -}}
{{- $_ := set $data (printf "%sGRPC_TLS_CLIENT_CA_FILE" $prefix) (printf "%s/ca.crt" $tlsDir) -}}
{{- end -}}
{{- else if $svc.tlsServer -}}
{{- $_ := set $data (printf "%sTLS_CERT_FILE" $prefix) (printf "%s/tls.crt" $tlsDir) -}}
{{- $_ := set $data (printf "%sTLS_KEY_FILE" $prefix) (printf "%s/tls.key" $tlsDir) -}}
{{- end -}}
{{- if $svc.backends -}}
{{- $_ := set $data (printf "%sGRPC_TLS_CA_FILE" $prefix) (printf "%s/ca.crt" $tlsDir) -}}
{{- $_ := set $data (printf "%sGRPC_TLS_CERT_FILE" $prefix) (printf "%s/tls.crt" $tlsDir) -}}
{{- $_ := set $data (printf "%sGRPC_TLS_KEY_FILE" $prefix) (printf "%s/tls.key" $tlsDir) -}}
{{- end -}}
{{- if $svc.callsIdentity -}}
{{- $_ := set $data (printf "%sIDENTITY_TLS_CA_FILE" $prefix) (printf "%s/ca.crt" $tlsDir) -}}
{{- end -}}
{{- end -}}
{{- range $backend := $svc.backends -}}
{{- $target := index $root.Values.services $backend -}}
{{- $host := include "qlcb.componentName" (dict "root" $root "name" $backend) -}}
{{- $_ := set $data (printf "%s%s_TARGET" $prefix (upper $backend)) (printf "dns:///%s:%s" $host (toJson $target.ports.grpc)) -}}
{{- end -}}
{{- if $svc.callsIdentity -}}
{{- $identity := $root.Values.services.identity -}}
{{- $scheme := ternary "https" "http" (and $root.Values.tls.enabled $identity.tlsServer) -}}
{{- $host := include "qlcb.componentName" (dict "root" $root "name" "identity") -}}
{{- $_ := set $data (printf "%sIDENTITY_URL" $prefix) (printf "%s://%s:%s" $scheme $host (toJson $identity.ports.http)) -}}
{{- end -}}
{{- if $svc.realmBackup -}}
{{- $_ := set $data (printf "%sKEYCLOAK_URL" $prefix) $root.Values.keycloak.url -}}
{{- end -}}
{{- if $svc.realm -}}
{{- $_ := set $data (printf "%sKEYCLOAK_URL" $prefix) $root.Values.keycloak.url -}}
{{- $_ := set $data (printf "%sREALM_FILE" $prefix) "/etc/qlcb/realm/realm-qlcb.json" -}}
{{- $overlays := list -}}
{{- range $overlay, $_ := $root.Values.keycloak.realm.overlays -}}
{{- $overlays = append $overlays (printf "/etc/qlcb/realm/overlay-%s.json" $overlay) -}}
{{- end -}}
{{- $_ := set $data (printf "%sREALM_OVERLAYS" $prefix) (toJson $overlays) -}}
{{- end -}}
{{- if $svc.statisticsForms -}}
{{- $_ := set $data (printf "%sSTATISTICS_FORMS_DIR" $prefix) "/etc/qlcb/statistics-forms" -}}
{{- end -}}
{{- if $svc.uses.database -}}
{{- $_ := set $data (printf "%sMIGRATE_AT_START" $prefix) (toJson (not $root.Values.migrations.enabled)) -}}
{{- end -}}
{{- range $key, $value := $svc.settings -}}
{{- if not (kindIs "invalid" $value) -}}
{{- $_ := set $data (printf "%s%s" $prefix (upper $key)) (include "qlcb.envValue" $value) -}}
{{- end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* A setting's value as an environment variable: strings as they are, anything else as JSON
(numbers without exponents, booleans as true/false, lists and maps as pydantic-settings reads them) */}}
{{- define "qlcb.envValue" -}}
{{- if kindIs "string" . -}}{{ . }}{{- else -}}{{ toJson . }}{{- end -}}
{{- end -}}

{{/* The realm ConfigMap's data: the realm file as the repository defines it, and the overlays */}}
{{- define "qlcb.realmData" -}}
realm-qlcb.json: |-
{{ .Files.Get "files/realm-qlcb.json" | trimSuffix "\n" | indent 2 }}
{{- range $name, $overlay := .Values.keycloak.realm.overlays }}
overlay-{{ $name }}.json: {{ toJson $overlay | quote }}
{{- end }}
{{- end -}}

{{/* Pod-level topology spread from a service's topologySpread */}}
{{- define "qlcb.topologySpread" -}}
{{- if .svc.topologySpread.enabled }}
topologySpreadConstraints:
{{- range .svc.topologySpread.topologyKeys }}
  - maxSkew: {{ $.svc.topologySpread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $.svc.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels: {{- include "qlcb.labels.matchLabels" $ | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
{{- end -}}

{{/* A CA bundle every pod trusts instead of the image's (trustedCa): for an OIDC issuer, Keycloak,
PostgreSQL (?ssl=verify-full), S3 or the national endpoint behind a private CA. Python's ssl (httpx,
asyncpg, PyJWT) reads SSL_CERT_FILE, requests (python-keycloak, boto) REQUESTS_CA_BUNDLE. */}}
{{- define "qlcb.trustedCa.env" -}}
{{- with .Values.trustedCa.secretName }}
- name: SSL_CERT_FILE
  value: /etc/qlcb/trusted-ca/{{ $.Values.trustedCa.key }}
- name: REQUESTS_CA_BUNDLE
  value: /etc/qlcb/trusted-ca/{{ $.Values.trustedCa.key }}
{{- end }}
{{- end -}}

{{- define "qlcb.trustedCa.mount" -}}
{{- if .Values.trustedCa.secretName }}
- name: trusted-ca
  mountPath: /etc/qlcb/trusted-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "qlcb.trustedCa.volume" -}}
{{- with .Values.trustedCa.secretName }}
- name: trusted-ca
  secret:
    secretName: {{ . }}
    defaultMode: 0444
{{- end }}
{{- end -}}
