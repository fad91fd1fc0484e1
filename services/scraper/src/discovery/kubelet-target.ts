import type { AddressType } from '../config.js';

/** Where a node's kubelet answers. */
export interface KubeletTarget {
  node: string;
  host: string;
  port: number;
}

interface NodeLike {
  metadata?: { name?: string };
  status?: {
    addresses?: { type?: string; address?: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

/**
 * The kubelet address of a Node: the first address of the preferred types, and the
 * port the kubelet reports (daemonEndpoints), else the default. Undefined when the
 * Node has no address of any preferred type (reported, not guessed).
 */
export function kubeletTarget(node: NodeLike, preference: readonly AddressType[], defaultPort: number): KubeletTarget | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const addresses = node.status?.addresses ?? [];
  for (const type of preference) {
    const found = addresses.find((a) => a.type === type && a.address);
    if (found?.address) {
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      return { node: name, host: found.address, port: port && port > 0 ? port : defaultPort };
    }
  }
  return undefined;
}
