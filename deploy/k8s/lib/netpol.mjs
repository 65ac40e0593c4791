// Evaluates rendered NetworkPolicies (networking.k8s.io/v1 semantics) into the set of allowed
// connections "from -> to:port/PROTO" between the namespace's workloads and a few endpoints
// outside it, so a test can compare that set with the architecture's table.
//
// Semantics implemented: a pod is isolated for a direction when a policy selecting it lists that
// policy type; an isolated pod allows what the union of the selecting policies' rules allows; a
// connection needs the source's egress AND the destination's ingress to allow it (a side outside
// the namespace is not governed by these policies). Peers: podSelector (policy namespace),
// namespaceSelector (+ podSelector), ipBlock (cidr minus except; matched only by endpoints outside
// the cluster, since pod IPs are implementation-defined for ipBlock). Ports: number or name
// (resolved against the destination's container ports), protocol (default TCP), endPort.

/** Endpoints outside the namespace that the tables name. */
export const OUTSIDE = [
  // A client in another namespace (agents, SDKs, gateways, admins).
  {
    name: 'client',
    namespace: 'agents',
    nsLabels: { 'kubernetes.io/metadata.name': 'agents' },
    labels: { app: 'agent' },
    ports: [],
  },
  // Cluster DNS (a destination only).
  {
    name: 'kube-dns',
    destinationOnly: true,
    namespace: 'kube-system',
    nsLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ],
  },
  // Anything outside the cluster (external Kafka, MongoDB, telemetry backend); listens on every
  // port some egress rule names.
  { name: 'external', ip: '203.0.113.10', ports: 'any' },
];

export function matchesSelector(selector, labels) {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}

function ipToInt(ip) {
  return ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

function inCidr(ip, cidr) {
  const [base, bitsText] = cidr.split('/');
  if (base.includes(':')) return false; // IPv6 blocks never match the IPv4 test endpoint
  const bits = Number(bitsText);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(base) & mask);
}

function peerMatches(peer, endpoint, policyNamespace) {
  if (peer.ipBlock) {
    if (!endpoint.ip) return false;
    if (!inCidr(endpoint.ip, peer.ipBlock.cidr)) return false;
    return !(peer.ipBlock.except ?? []).some((c) => inCidr(endpoint.ip, c));
  }
  if (!endpoint.namespace) return false; // outside the cluster: only ipBlock matches
  if (peer.namespaceSelector) {
    if (!matchesSelector(peer.namespaceSelector, endpoint.nsLabels)) return false;
    return matchesSelector(peer.podSelector, endpoint.labels);
  }
  if (peer.podSelector)
    return endpoint.namespace === policyNamespace && matchesSelector(peer.podSelector, endpoint.labels);
  return false;
}

function portMatches(rulePorts, dest, port, protocol) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    let number = p.port;
    if (typeof number === 'string') {
      const named = Array.isArray(dest.ports)
        ? dest.ports.find((cp) => cp.name === p.port && cp.protocol === protocol)
        : undefined;
      if (!named) return false;
      number = named.port;
    }
    return p.endPort !== undefined ? port >= number && port <= p.endPort : port === number;
  });
}

function policyTypes(np) {
  if (np.spec.policyTypes) return np.spec.policyTypes;
  return np.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Workloads (Deployment, StatefulSet, Job, DaemonSet) of the rendered objects as endpoints. */
export function workloadEndpoints(objects) {
  const out = [];
  for (const o of objects) {
    if (!['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind)) continue;
    const ns = o.metadata.namespace ?? 'default';
    const tpl = o.spec.template;
    const ports = [];
    for (const c of tpl.spec.containers ?? []) {
      for (const p of c.ports ?? []) ports.push({ port: p.containerPort, protocol: p.protocol ?? 'TCP', name: p.name });
    }
    out.push({
      name: o.metadata.name,
      namespace: ns,
      nsLabels: { 'kubernetes.io/metadata.name': ns },
      labels: tpl.metadata?.labels ?? {},
      ports,
    });
  }
  return out;
}

/** Every allowed connection, as sorted strings `from -> to:port/PROTO`. */
export function allowedConnections(objects) {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const inside = workloadEndpoints(objects);
  const namespaces = new Set(inside.map((e) => e.namespace));
  const endpoints = [...inside, ...OUTSIDE];

  // Ports the `external` endpoint listens on: every port an egress rule names.
  const externalPorts = [];
  for (const np of policies) {
    for (const rule of np.spec.egress ?? []) {
      for (const p of rule.ports ?? []) {
        if (typeof p.port === 'number') externalPorts.push({ port: p.port, protocol: p.protocol ?? 'TCP' });
      }
    }
  }

  const governed = (e) => e.namespace !== undefined && namespaces.has(e.namespace);
  const selecting = (e, type) =>
    policies.filter(
      (np) =>
        (np.metadata.namespace ?? 'default') === e.namespace &&
        policyTypes(np).includes(type) &&
        matchesSelector(np.spec.podSelector, e.labels),
    );

  const allows = (subject, type, peerEndpoint, dest, port, protocol) => {
    if (!governed(subject)) return true;
    const pols = selecting(subject, type);
    if (pols.length === 0) return true;
    const key = type === 'Egress' ? 'egress' : 'ingress';
    const peerKey = type === 'Egress' ? 'to' : 'from';
    return pols.some((np) =>
      (np.spec[key] ?? []).some((rule) => {
        const peers = rule[peerKey];
        const peerOk =
          !peers ||
          peers.length === 0 ||
          peers.some((peer) => peerMatches(peer, peerEndpoint, np.metadata.namespace ?? 'default'));
        return peerOk && portMatches(rule.ports, dest, port, protocol);
      }),
    );
  };

  const result = new Set();
  for (const src of endpoints) {
    if (src.destinationOnly) continue;
    for (const dst of endpoints) {
      const ports = dst.ports === 'any' ? externalPorts : dst.ports;
      for (const { port, protocol } of ports) {
        if (!governed(src) && !governed(dst)) continue; // neither side is ours
        if (allows(src, 'Egress', dst, dst, port, protocol) && allows(dst, 'Ingress', src, dst, port, protocol)) {
          result.add(`${src.name} -> ${dst.name}:${port}/${protocol}`);
        }
      }
    }
  }
  return [...result].sort();
}
