//! The Jobs a blueprint runs against its store (index retention, bucket
//! creation) reach that store, and only it; strangers do not.

mod support;

use support::evaluator::allowed;
use support::pods::{job_pod, pod_of};
use support::{example, network_policies};

#[test]
fn a_retention_job_reaches_its_elasticsearch() {
    let (platform, set) = example("voice-assistant");
    let policies = network_policies(&set);
    let elasticsearch = platform.service("elasticsearch").unwrap();
    let job = job_pod(
        &set.objects,
        "elasticsearch-retention",
        &elasticsearch.namespace,
    )
    .expect("no Job elasticsearch-retention");
    let server = pod_of(&set.objects, &platform, "elasticsearch");
    assert!(allowed(&policies, &job, &server, 9200, "TCP"));
    let minio = pod_of(&set.objects, &platform, "minio");
    assert!(
        !allowed(&policies, &job, &minio, 9000, "TCP"),
        "its cluster only"
    );
    let stranger = pod_of(&set.objects, &platform, "redis");
    assert!(!allowed(&policies, &stranger, &server, 9200, "TCP"));
}

#[test]
fn a_bucket_job_reaches_its_minio() {
    let (platform, set) = example("voice-assistant");
    let policies = network_policies(&set);
    let minio = platform.service("minio").unwrap();
    let job =
        job_pod(&set.objects, "minio-buckets", &minio.namespace).expect("a Job makes the buckets");
    let server = pod_of(&set.objects, &platform, "minio");
    assert!(allowed(&policies, &job, &server, 9000, "TCP"));
    let stranger = pod_of(&set.objects, &platform, "redis");
    assert!(!allowed(&policies, &stranger, &server, 9000, "TCP"));
}
