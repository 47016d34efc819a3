// The Cassandra client of the write-behind path: short timeouts and steady reconnection, so an
// outage shows up as failed writes (entries stay pending) and the path heals when Cassandra returns.
import cassandra from 'cassandra-driver';

export function cassandraClient(options: {
  contactPoints: string[];
  localDataCenter: string;
}): cassandra.Client {
  return new cassandra.Client({
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    socketOptions: { readTimeout: 4_000, connectTimeout: 4_000 },
    pooling: { heartBeatInterval: 2_000 },
    policies: {
      reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(1_000),
    },
  });
}
