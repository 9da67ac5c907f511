//! Container image references (`REGISTRY/REPOSITORY:TAG@DIGEST`) taken
//! apart: the one reader that checks and exports use, so that they agree
//! on what an image's tag or name is.

/// A container image reference split into its parts as written: nothing is
/// filled in (`nginx` has no registry, not `docker.io`, and no tag, not
/// `latest`) and nothing is checked, so any text parses.
///
/// ```
/// use strata_core::image::ImageRef;
///
/// let local = ImageRef::parse("localhost:5000/a/b:1.0");
/// assert_eq!(local.registry, Some("localhost:5000"));
/// assert_eq!(local.repository, "a/b");
/// assert_eq!(local.tag, Some("1.0"));
/// assert_eq!(local.digest, None);
/// assert_eq!(local.name(), "localhost:5000/a/b");
///
/// let bare = ImageRef::parse("nginx");
/// assert_eq!((bare.registry, bare.repository, bare.tag), (None, "nginx", None));
///
/// let pinned = ImageRef::parse("nginx@sha256:0d17b565");
/// assert_eq!(pinned.digest, Some("sha256:0d17b565"));
/// assert_eq!((pinned.name(), pinned.tag), ("nginx", None));
///
/// let hub = ImageRef::parse("docker.io/library/redis:7");
/// assert_eq!(hub.registry, Some("docker.io"));
/// assert_eq!(hub.repository, "library/redis");
/// assert_eq!(hub.base_name(), "redis");
/// assert_eq!(hub.tag, Some("7"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry host, with its port (`localhost:5000`), when the first
    /// path part is one: it has a `.` or a `:`, or is `localhost`. Any
    /// other first part (`library/redis`) is a Docker Hub account.
    pub registry: Option<&'a str>,
    /// The path within the registry (`library/redis`, `nginx`).
    pub repository: &'a str,
    /// What follows the first `:` of the last path part, before any digest.
    pub tag: Option<&'a str>,
    /// What follows the first `@` (`sha256:…`).
    pub digest: Option<&'a str>,
    /// Registry and repository as written.
    name: &'a str,
}

impl<'a> ImageRef<'a> {
    /// Splits `reference`; never fails. A reference that is not valid for a
    /// container runtime (two `:` in its last path part, an `@` before a
    /// `/`) still parses, by the rules of the field docs.
    pub fn parse(reference: &'a str) -> Self {
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (reference, None),
        };
        // A registry's port also has a `:`: the tag's is after the last `/`.
        let last_part = rest.rfind('/').map_or(0, |slash| slash + 1);
        let (name, tag) = match rest[last_part..].find(':') {
            Some(colon) => (
                &rest[..last_part + colon],
                Some(&rest[last_part + colon + 1..]),
            ),
            None => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((host, path)) if host.contains(['.', ':']) || host == "localhost" => {
                (Some(host), path)
            }
            _ => (None, name),
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
            name,
        }
    }

    /// The image without its tag and digest: registry and repository as
    /// written (`ghcr.io/a/b` for `ghcr.io/a/b:1.0`).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The last part of the repository, which usually names the software
    /// (`redis` for `docker.io/library/redis:7`).
    pub fn base_name(&self) -> &'a str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(self.repository)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageRef;

    /// `(reference, registry, repository, tag, digest)`.
    type Parts = (
        &'static str,
        Option<&'static str>,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );

    const CASES: [Parts; 17] = [
        ("nginx", None, "nginx", None, None),
        ("nginx:1.27", None, "nginx", Some("1.27"), None),
        ("nginx@sha256:abc", None, "nginx", None, Some("sha256:abc")),
        (
            "nginx:1.0@sha256:abc",
            None,
            "nginx",
            Some("1.0"),
            Some("sha256:abc"),
        ),
        ("shop/api", None, "shop/api", None, None),
        (
            "docker.io/library/redis:7",
            Some("docker.io"),
            "library/redis",
            Some("7"),
            None,
        ),
        (
            "localhost:5000/a/b:1.0",
            Some("localhost:5000"),
            "a/b",
            Some("1.0"),
            None,
        ),
        (
            "localhost:5000/a/b",
            Some("localhost:5000"),
            "a/b",
            None,
            None,
        ),
        ("localhost/a", Some("localhost"), "a", None, None),
        ("registry:5000/x", Some("registry:5000"), "x", None, None),
        // No `/`: the port-like part is a tag, as a runtime reads it.
        ("registry:5000", None, "registry", Some("5000"), None),
        (
            "UPPER/Case:latest",
            None,
            "UPPER/Case",
            Some("latest"),
            None,
        ),
        ("a/b:", None, "a/b", Some(""), None),
        ("a/", None, "a/", None, None),
        ("", None, "", None, None),
        // Not valid references: pinned so that every reader agrees.
        ("a:1:latest", None, "a", Some("1:latest"), None),
        ("x@y/z:1", None, "x", None, Some("y/z:1")),
    ];

    #[test]
    fn references_split_into_registry_repository_tag_and_digest() {
        for (reference, registry, repository, tag, digest) in CASES {
            let image = ImageRef::parse(reference);
            assert_eq!(
                (image.registry, image.repository, image.tag, image.digest),
                (registry, repository, tag, digest),
                "{reference}"
            );
            let host = registry.map_or(String::new(), |h| format!("{h}/"));
            assert_eq!(image.name(), format!("{host}{repository}"), "{reference}");
        }
    }

    #[test]
    fn the_base_name_is_the_repository_s_last_part() {
        assert_eq!(
            ImageRef::parse("ghcr.io/acme/redis-stack:7").base_name(),
            "redis-stack"
        );
        assert_eq!(
            ImageRef::parse("postgres@sha256:abc").base_name(),
            "postgres"
        );
        assert_eq!(ImageRef::parse("localhost:5000").base_name(), "localhost");
        assert_eq!(ImageRef::parse("").base_name(), "");
    }
}
