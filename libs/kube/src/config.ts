import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeConfigSource {
  /** Path to a kubeconfig file; wins over in-cluster detection. */
  kubeconfigPath?: string;
  /** Force the in-cluster service account (defaults to "when KUBERNETES_SERVICE_HOST is set"). */
  inCluster?: boolean;
}

/** Kubeconfig from a file, the pod's service account, or the client's default search path. */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfigPath) {
    if (!existsSync(source.kubeconfigPath)) throw new Error(`kubeconfig ${source.kubeconfigPath} does not exist (KUBECONFIG)`);
    kc.loadFromFile(source.kubeconfigPath);
  }
  else if (source.inCluster ?? process.env.KUBERNETES_SERVICE_HOST !== undefined) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster: set KUBECONFIG or run in a pod');
  return kc;
}
