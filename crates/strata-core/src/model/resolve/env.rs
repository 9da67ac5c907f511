//! Environment variables, with `${service.field}` references resolved into
//! values and dependencies.

use super::Resolver;
use super::ServiceNames;
use crate::diag::suggestion;
use crate::model::endpoint::Endpoints;
use crate::model::reference::{Piece, split};
use crate::model::{Dependency, DependencyOrigin, DependencyTarget, EnvValue, EnvVar, KeyRef};
use crate::source::Span;
use crate::spec::names::EnvName;
use crate::spec::service::EnvValueSpec;
use crate::spec::{Map, Spanned};

impl Resolver<'_> {
    /// The variables of an `env:` map, references resolved, and the
    /// dependencies those references make; `origin` prefixes the variable
    /// named as a dependency's origin (an init step's `fetch/`).
    pub(super) fn env(
        &mut self,
        env: Option<&Spanned<Map<EnvName, EnvValueSpec>>>,
        origin: &str,
        services: &ServiceNames<'_>,
        endpoints: Endpoints<'_>,
    ) -> (Vec<EnvVar>, Vec<Dependency>) {
        let mut vars = Vec::with_capacity(env.map_or(0, |e| e.value.len()));
        let mut references = Vec::new();
        for (name, value) in env.iter().flat_map(|e| e.value.iter()) {
            let resolved = match &value.value {
                EnvValueSpec::Secret(s) => EnvValue::Secret(Box::new(KeyRef {
                    name: s.secret.value.0.clone(),
                    key: s.key.value.clone(),
                })),
                EnvValueSpec::Config(c) => EnvValue::Config(Box::new(KeyRef {
                    name: c.config.value.0.clone(),
                    key: c.key.value.clone(),
                })),
                // Most values hold no reference: nothing to resolve.
                EnvValueSpec::Literal(literal) if !literal.contains("${") => {
                    EnvValue::Literal(literal.clone())
                }
                EnvValueSpec::Literal(literal) => {
                    match self.literal(
                        literal,
                        value.span,
                        &format!("{origin}{}", name.value.0),
                        services,
                        endpoints,
                        &mut references,
                    ) {
                        Some(text) => EnvValue::Literal(text),
                        None => continue,
                    }
                }
            };
            vars.push(EnvVar {
                name: name.value.0.clone(),
                value: resolved,
                span: value.span,
            });
        }
        (vars, references)
    }

    /// The source span of `range` inside a scalar written at `span`.
    fn inner_span(&self, span: Span, literal: &str, range: std::ops::Range<usize>) -> Span {
        let written = self.doc.file.slice(span);
        let offset = if written == literal {
            Some(0)
        } else if written.len() == literal.len() + 2
            && written.get(1..written.len() - 1) == Some(literal)
        {
            Some(1)
        } else {
            // The fragment may also occur earlier in the written text (an
            // escape, a folded line): then the whole scalar is the place.
            literal
                .get(range.clone())
                .and_then(|fragment| written.find(fragment))
                .and_then(|at| at.checked_sub(range.start))
        };
        match offset {
            Some(o) => Span::new(span.start() + o + range.start, span.start() + o + range.end),
            None => span,
        }
    }

    pub(super) fn literal(
        &mut self,
        literal: &str,
        span: Span,
        var: &str,
        services: &ServiceNames<'_>,
        endpoints: Endpoints<'_>,
        references: &mut Vec<Dependency>,
    ) -> Option<String> {
        let pieces = match split(literal) {
            Ok(p) => p,
            Err(e) => {
                let at = self.inner_span(span, literal, e.range);
                self.error(
                    "invalid-reference",
                    e.message,
                    at,
                    "malformed reference",
                    "write `${service.field}`, or `$${` for a literal `${`".into(),
                );
                return None;
            }
        };
        let mut out = String::new();
        let mut ok = true;
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(&t),
                Piece::Reference(r) => {
                    let at = self.inner_span(span, literal, r.range.clone());
                    if !services.contains_key(r.target.as_str())
                        && let Some(index) = self.reference_external(&r.target)
                    {
                        let fields = super::external::exports(&self.externals[index]);
                        if let Some((_, value)) = fields.iter().find(|(k, _)| *k == r.field) {
                            out.push_str(value);
                        } else {
                            let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                            self.error(
                                "unknown-field",
                                format!(
                                    "the external `{}` does not export `{}`",
                                    r.target, r.field
                                ),
                                at,
                                "not exported",
                                format!("`{}` exports: {}", r.target, names.join(", ")),
                            );
                            ok = false;
                        }
                        continue;
                    }
                    let Some(&id) = services.get(r.target.as_str()) else {
                        if self.left_out(&r.target, false, at) {
                            ok = false;
                            continue;
                        }
                        let mut names: Vec<&str> = services.keys().copied().collect();
                        names.sort_unstable();
                        let help = suggestion(&r.target, &names, "service");
                        self.error(
                            "unknown-reference",
                            format!(
                                "`{}` in `${{{}.{}}}` is not a service of this platform",
                                r.target, r.target, r.field
                            ),
                            at,
                            "no such service",
                            help,
                        );
                        ok = false;
                        continue;
                    };
                    if let Some(value) = endpoints.field(id, &r.field) {
                        out.push_str(&value);
                    } else {
                        let fields = endpoints.all(id);
                        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                        let help = match crate::diag::closest(&r.field, names.iter().copied()) {
                            Some(c) => format!(
                                "did you mean `${{{}.{c}}}`? `{}` exports: {}",
                                r.target,
                                r.target,
                                names.join(", ")
                            ),
                            None => format!("`{}` exports: {}", r.target, names.join(", ")),
                        };
                        self.error(
                            "unknown-field",
                            format!("the service `{}` does not export `{}`", r.target, r.field),
                            at,
                            "not exported",
                            help,
                        );
                        ok = false;
                        continue;
                    }
                    references.push(Dependency {
                        target: DependencyTarget::Service(id),
                        origin: DependencyOrigin::Reference(var.to_string()),
                        span: at,
                        wait: true,
                    });
                }
            }
        }
        ok.then_some(out)
    }
}
