//! Writing one key of a `Kubernetes` app's `spec.nodeGroups` safely when
//! many node groups of the same cluster are applied at once.
//!
//! Cozystack v1.5+ answers a merge patch by reading the app from an
//! informer cache (possibly stale), applying the patch, and writing the
//! result with the current resourceVersion: last writer wins. Two node
//! groups patched a few milliseconds apart can therefore silently undo each
//! other. Two defences, both per parent cluster:
//!
//! 1. Writes from this provider process are serialized: one async mutex per
//!    `(namespace, cluster)`.
//! 2. The mutex guards the list of what this process expects each of its
//!    keys to hold (an entry, or absence). After every write, the cluster is
//!    read back and every expectation is checked, not only the key just
//!    written: a write from a stale base drops the key written just before
//!    it. Keys that do not hold are patched again, with backoff so that the
//!    server's cache catches up, up to [`MAX_TRIES`] rounds.
//!
//! Keys this process does not own (the cluster's own entries, `md0`, other
//! workspaces' pools) are never written.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use super::nodegroup::{self, DiskField, KUBERNETES_PLURAL, NodeGroupSpec};
use super::{ApiGeneration, CozyClient, CozyError};

/// Rounds of write + read back before giving up.
pub const MAX_TRIES: u32 = 8;

/// Errors of a node group write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The parent `Kubernetes` app does not exist.
    #[error("Kubernetes cluster {cluster:?} not found in namespace {namespace:?}")]
    ClusterNotFound {
        /// Namespace searched.
        namespace: String,
        /// Cluster name.
        cluster: String,
    },
    /// Creating a key that is already in the map.
    #[error("node group {name:?} already exists in Kubernetes cluster {namespace}/{cluster}")]
    AlreadyExists {
        /// Namespace.
        namespace: String,
        /// Cluster.
        cluster: String,
        /// Key.
        name: String,
    },
    /// The API failed.
    #[error(
        "failed to write node group {name:?} of Kubernetes cluster {namespace}/{cluster}: {source}"
    )]
    Api {
        /// Namespace.
        namespace: String,
        /// Cluster.
        cluster: String,
        /// Key.
        name: String,
        /// Cause.
        #[source]
        source: CozyError,
    },
    /// Read back kept disagreeing with what was written.
    #[error(
        "node group {name:?} of Kubernetes cluster {namespace}/{cluster} still did not hold what was written after {tries} attempts (keys not holding: {keys})"
    )]
    NotConverged {
        /// Namespace.
        namespace: String,
        /// Cluster.
        cluster: String,
        /// Key.
        name: String,
        /// Attempts made.
        tries: u32,
        /// The keys that did not hold.
        keys: String,
    },
    /// Terraform asked the provider to stop.
    #[error("interrupted (Terraform asked the provider to stop)")]
    Cancelled,
}

/// What to do with the key.
#[derive(Debug, Clone)]
pub enum Change {
    /// Add the key; fails if it exists.
    Create(NodeGroupSpec),
    /// Write the key (re-adding it if it vanished).
    Update(NodeGroupSpec),
    /// Remove the key; a missing key or cluster is success.
    Delete,
}

#[derive(Debug, Clone)]
enum Expect {
    Present(NodeGroupSpec, DiskField),
    Absent,
}

impl Expect {
    fn holds(&self, cluster: &Json, name: &str) -> bool {
        match (self, nodegroup::entry(cluster, name)) {
            (Expect::Present(spec, _), Some(e)) => spec.held_by(e),
            (Expect::Present(..), None) => false,
            (Expect::Absent, e) => e.is_none(),
        }
    }

    fn patch_value(&self) -> Option<Json> {
        match self {
            Expect::Present(spec, field) => Some(spec.to_entry(*field)),
            Expect::Absent => None,
        }
    }
}

/// What this process expects each key of one cluster to hold.
type Expectations = BTreeMap<String, Expect>;

type ClusterKey = (String, String);

static CLUSTERS: LazyLock<Mutex<HashMap<ClusterKey, Arc<tokio::sync::Mutex<Expectations>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn cluster_lock(namespace: &str, cluster: &str) -> Arc<tokio::sync::Mutex<Expectations>> {
    CLUSTERS
        .lock()
        .expect("node group lock map")
        .entry((namespace.to_string(), cluster.to_string()))
        .or_default()
        .clone()
}

fn resource_version(obj: &Json) -> Option<u64> {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
}

fn backoff(round: u32) -> Duration {
    Duration::from_millis((150u64 << round.min(5)).min(3_000))
}

async fn sleep(d: Duration, cancel: &CancellationToken) -> Result<(), WriteError> {
    tokio::select! {
        _ = cancel.cancelled() => Err(WriteError::Cancelled),
        _ = tokio::time::sleep(d) => Ok(()),
    }
}

/// Where one node group lives.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Namespace of the parent app.
    pub namespace: &'a str,
    /// The parent `Kubernetes` app.
    pub cluster: &'a str,
    /// The key in `spec.nodeGroups`.
    pub name: &'a str,
}

impl Target<'_> {
    /// The path of the parent app.
    pub fn cluster_path(&self) -> String {
        CozyClient::app_path(KUBERNETES_PLURAL, self.namespace, self.cluster)
    }

    fn api(&self, source: CozyError) -> WriteError {
        if source.is_not_found() {
            return self.not_found();
        }
        WriteError::Api {
            namespace: self.namespace.into(),
            cluster: self.cluster.into(),
            name: self.name.into(),
            source,
        }
    }

    fn not_found(&self) -> WriteError {
        WriteError::ClusterNotFound {
            namespace: self.namespace.into(),
            cluster: self.cluster.into(),
        }
    }
}

/// Apply `change` to one key, serialized with the other writes of this
/// process to the same cluster, and verified by reading back. Returns the
/// parent app as last read (`None` after deleting from a cluster that is
/// gone).
pub async fn write(
    client: &CozyClient,
    generation: ApiGeneration,
    t: &Target<'_>,
    change: Change,
    cancel: &CancellationToken,
) -> Result<Option<Json>, WriteError> {
    let lock = cluster_lock(t.namespace, t.cluster);
    let mut expectations = lock.lock().await;
    let path = t.cluster_path();

    let before = match client.get_opt(&path).await.map_err(|e| t.api(e))? {
        Some(obj) => obj,
        None if matches!(change, Change::Delete) => {
            expectations.remove(t.name);
            return Ok(None);
        }
        None => return Err(t.not_found()),
    };
    let field = nodegroup::disk_field(&before, generation);
    let expect = match change {
        Change::Create(spec) => {
            if nodegroup::entry(&before, t.name).is_some() && !expectations.contains_key(t.name) {
                return Err(WriteError::AlreadyExists {
                    namespace: t.namespace.into(),
                    cluster: t.cluster.into(),
                    name: t.name.into(),
                });
            }
            Expect::Present(spec, field)
        }
        Change::Update(spec) => Expect::Present(spec, field),
        Change::Delete => {
            if before["metadata"]["deletionTimestamp"].is_string() {
                // The whole cluster is going away with its node groups.
                expectations.remove(t.name);
                return Ok(Some(before));
            }
            Expect::Absent
        }
    };
    expectations.insert(t.name.to_string(), expect);

    let result = converge(client, t, &path, &expectations, before, cancel).await;
    if result.is_err() {
        // A failed write must not be re-applied by the next one. Verified
        // ones stay guarded (a removed key too: a later write from a stale
        // base would bring it back).
        expectations.remove(t.name);
    }
    result.map(Some)
}

/// Patch `keys`, read back, re-patch whatever does not hold, until every
/// expectation holds.
async fn converge(
    client: &CozyClient,
    t: &Target<'_>,
    path: &str,
    expectations: &Expectations,
    before: Json,
    cancel: &CancellationToken,
) -> Result<Json, WriteError> {
    // Nothing to do when the key already holds what we want (e.g. deleting
    // an absent key): skip the write.
    let mut pending: Vec<String> = if expectations[t.name].holds(&before, t.name) {
        Vec::new()
    } else {
        vec![t.name.to_string()]
    };
    let mut current = before;
    for round in 0..MAX_TRIES {
        if !pending.is_empty() {
            let p = nodegroup::patch(
                pending
                    .iter()
                    .map(|k| (k.as_str(), expectations[k].patch_value())),
            );
            tracing::debug!(
                namespace = t.namespace,
                cluster = t.cluster,
                keys = ?pending,
                round,
                "merge-patching node groups"
            );
            let written = client.merge_patch(path, &p).await.map_err(|e| t.api(e))?;
            current = read_back(client, t, path, resource_version(&written), cancel).await?;
        }
        let failing: Vec<String> = expectations
            .iter()
            .filter(|(k, e)| !e.holds(&current, k))
            .map(|(k, _)| k.clone())
            .collect();
        if failing.is_empty() {
            return Ok(current);
        }
        tracing::debug!(
            namespace = t.namespace,
            cluster = t.cluster,
            keys = ?failing,
            round,
            "node groups lost or changed by a concurrent write; re-applying"
        );
        pending = failing;
        sleep(backoff(round), cancel).await?;
    }
    let failing: Vec<String> = expectations
        .iter()
        .filter(|(k, e)| !e.holds(&current, k))
        .map(|(k, _)| k.clone())
        .collect();
    if failing.is_empty() {
        return Ok(current);
    }
    Err(WriteError::NotConverged {
        namespace: t.namespace.into(),
        cluster: t.cluster.into(),
        name: t.name.into(),
        tries: MAX_TRIES,
        keys: failing.join(", "),
    })
}

/// Read the cluster, waiting (briefly) for a read at least as new as our
/// write: reads may come from a lagging cache.
async fn read_back(
    client: &CozyClient,
    t: &Target<'_>,
    path: &str,
    written_rv: Option<u64>,
    cancel: &CancellationToken,
) -> Result<Json, WriteError> {
    let mut last = None;
    for i in 0..20u64 {
        let obj = client
            .get_opt(path)
            .await
            .map_err(|e| t.api(e))?
            .ok_or_else(|| t.not_found())?;
        match (written_rv, resource_version(&obj)) {
            (Some(w), Some(r)) if r < w => {
                last = Some(obj);
                sleep(Duration::from_millis(25 * (i + 1)), cancel).await?;
            }
            _ => return Ok(obj),
        }
    }
    Ok(last.expect("at least one read"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expectations_check_presence_and_content() {
        let spec = NodeGroupSpec {
            min_replicas: 1,
            max_replicas: 5,
            ..Default::default()
        };
        let present = Expect::Present(spec.clone(), DiskField::DiskSize);
        let with =
            json!({"spec": {"nodeGroups": {"a": spec.to_entry(DiskField::DiskSize), "md0": {}}}});
        let without = json!({"spec": {"nodeGroups": {"md0": {}}}});
        assert!(present.holds(&with, "a"));
        assert!(!present.holds(&without, "a"));
        assert!(Expect::Absent.holds(&without, "a"));
        assert!(!Expect::Absent.holds(&with, "a"));
        assert!(Expect::Absent.patch_value().is_none());
        assert_eq!(present.patch_value().unwrap()["maxReplicas"], 5);
    }

    #[test]
    fn one_lock_per_cluster() {
        let a = cluster_lock("tenant-root", "c1");
        let b = cluster_lock("tenant-root", "c1");
        let c = cluster_lock("tenant-root", "c2");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(150));
        assert_eq!(backoff(1), Duration::from_millis(300));
        assert_eq!(backoff(7), Duration::from_millis(3000));
        let total: Duration = (0..MAX_TRIES).map(backoff).sum();
        assert!(total < Duration::from_secs(15));
    }

    #[test]
    fn resource_versions_are_compared_when_numeric() {
        assert_eq!(
            resource_version(&json!({"metadata": {"resourceVersion": "42"}})),
            Some(42)
        );
        assert_eq!(
            resource_version(&json!({"metadata": {"resourceVersion": "abc"}})),
            None
        );
    }
}
