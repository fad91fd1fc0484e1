/** Why a kubelet request failed, in words an operator can act on. */
export type KubeletFailure = 'unauthorized' | 'forbidden' | 'tls' | 'timeout' | 'refused' | 'unreachable' | 'http' | 'too-large' | 'network';

export class KubeletError extends Error {
  constructor(
    readonly node: string,
    readonly failure: KubeletFailure,
    /** The cause and its fix, without the node prefix of `message`. */
    readonly detail: string,
    /** HTTP status, when the kubelet answered. */
    readonly status?: number,
  ) {
    super(`kubelet ${node}: ${detail}`);
    this.name = 'KubeletError';
  }
}

const untrustedCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Turns a socket or TLS error into a KubeletError whose message names the cause and the fix. */
export function classifyNetworkError(node: string, host: string, port: number, err: NodeJS.ErrnoException & { reason?: string }): KubeletError {
  const where = `${host}:${port}`;
  const code = err.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new KubeletError(node, 'tls', `x509: the kubelet's certificate is not valid for ${host} (${err.reason ?? err.message}); have kubelets serve certificates with this address in their SANs (serverTLSBootstrap), or pick another address type with SCRAPER_ADDRESS_TYPES`);
  }
  if (untrustedCodes.has(code)) {
    return new KubeletError(node, 'tls', `x509: the certificate at ${where} is not signed by a CA in KUBELET_CA_FILE (${code}); point KUBELET_CA_FILE at the kubelets' CA, or set KUBELET_INSECURE_SKIP_VERIFY=true to skip verification`);
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new KubeletError(node, 'tls', `x509: the certificate at ${where} ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet (clock skew?)'}`);
  }
  if (code === 'ECONNREFUSED') return new KubeletError(node, 'refused', `connection refused at ${where}: is the kubelet running and listening on this port?`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new KubeletError(node, 'unreachable', `cannot reach ${where} (${code})`);
  }
  if (code === 'ETIMEDOUT' || code === 'ABORT_ERR' || err.name === 'TimeoutError') return new KubeletError(node, 'timeout', `no complete answer from ${where} within the deadline (SCRAPER_TIMEOUT)`);
  return new KubeletError(node, 'network', `request to ${where} failed: ${code ? `${code} ` : ''}${err.message}`);
}

/** Turns a non-2xx answer into a KubeletError that says what to change. */
export function classifyHttpStatus(node: string, status: number, path: string, body: string): KubeletError {
  if (status === 401) {
    return new KubeletError(node, 'unauthorized', `401 Unauthorized: the kubelet rejected the credentials (check KUBELET_TOKEN_FILE / client certificate, and that kubelet webhook authentication is on)`, status);
  }
  if (status === 403) {
    const sub = path.startsWith('/stats') ? 'nodes/stats' : path.startsWith('/metrics') ? 'nodes/metrics' : 'nodes/proxy';
    return new KubeletError(node, 'forbidden', `403 Forbidden: the service account lacks the RBAC verb "get" on resource "${sub}" (ClusterRole rule: apiGroups [""], resources ["${sub}"], verbs ["get"]); kubelet said: ${body.slice(0, 200).trim()}`, status);
  }
  return new KubeletError(node, 'http', `HTTP ${status} for ${path}: ${body.slice(0, 200).trim()}`, status);
}
