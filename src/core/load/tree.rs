//! The YAML span tree: one event pass over a file splits it into documents,
//! recovers from syntax errors, and keeps each document's byte spans, which
//! tell its `kind` and locate every later diagnostic.

use super::*;

/// One YAML document of a file, after the event pass.
pub(super) struct Doc<'a> {
    /// 0-based index in the file.
    pub(super) index: usize,
    /// The document's text, from the end of the previous document (so it holds
    /// its own `---` and comments) to its end.
    pub(super) range: Range<usize>,
    /// Its tree.
    pub(super) root: Node<'a>,
    /// Where the document starts (its `---` or first token), for diagnostics
    /// about the whole document.
    pub(super) start: usize,
    /// No tag, anchor, alias or `%YAML` directive, and small and shallow:
    /// the typed pass may read the tree itself ([`fast`]) instead of parsing
    /// the text again.
    pub(super) simple: bool,
}

/// A syntax error found by the event pass.
pub(super) struct SyntaxError {
    pub(super) offset: usize,
    pub(super) message: String,
}

/// A YAML node with the byte span of its source.
#[derive(Debug)]
pub(super) struct Node<'a> {
    pub(super) span: Range<usize>,
    pub(super) kind: NodeKind<'a>,
}

#[derive(Debug)]
pub(super) enum NodeKind<'a> {
    Scalar {
        value: Cow<'a, str>,
        plain: bool,
        tagged: bool,
    },
    Seq(Vec<Node<'a>>, bool),
    Map(Vec<(Node<'a>, Node<'a>)>, bool),
    Alias,
}

/// Deeper nesting than this is not a build definition; the limit keeps the
/// tree (and its recursive drop) small on hostile input.
pub(super) const MAX_DEPTH: usize = 64;

impl<'a> Node<'a> {
    pub(super) fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub(super) fn entries(&self) -> &[(Node<'a>, Node<'a>)] {
        match &self.kind {
            NodeKind::Map(entries, _) => entries,
            _ => &[],
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&(Node<'a>, Node<'a>)> {
        self.entries().iter().find(|(k, _)| k.scalar() == Some(key))
    }

    /// An empty document, or one that is only `~`/`null`.
    pub(super) fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true, tagged: false }
            if matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What to underline for this node: a scalar itself; for a collection its
    /// first key or item (a whole block mapping would underline many lines).
    pub(super) fn highlight(&self) -> Range<usize> {
        match &self.kind {
            NodeKind::Map(entries, _) if !entries.is_empty() => entries[0].0.highlight(),
            NodeKind::Seq(_, false) | NodeKind::Map(_, true) | NodeKind::Seq(_, true) => {
                self.span.start..self.span.start + 1
            }
            _ => self.span.clone(),
        }
    }

    pub(super) fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Scalar { value, .. }
                if value.chars().count() <= 40 && !value.contains('\n') =>
            {
                format!("`{value}`")
            }
            NodeKind::Scalar { .. } => "a string".to_owned(),
            NodeKind::Seq(..) => "a list".to_owned(),
            NodeKind::Map(..) => "a mapping".to_owned(),
            NodeKind::Alias => "an alias".to_owned(),
        }
    }

    /// The node a path leads to, as far as it exists in the file: a defaulted
    /// field is absent, so its finding points at the closest enclosing node.
    pub(super) fn locate(&self, path: &[Seg], target: Target) -> Range<usize> {
        let mut node = self;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match (seg, &node.kind) {
                (Seg::Key(k), NodeKind::Map(..)) => match node.get(k) {
                    Some((key, value)) => {
                        if last && target == Target::Key {
                            return key.highlight();
                        }
                        // `key:` with nothing after it: point at the key.
                        if value.span.is_empty() {
                            return key.highlight();
                        }
                        node = value;
                    }
                    None => break,
                },
                (Seg::Index(n), NodeKind::Seq(items, _)) => match items.get(*n) {
                    Some(item) => node = item,
                    None => break,
                },
                _ => break,
            }
        }
        node.highlight()
    }

    /// What is at `offset`: the innermost node, its path, and around it.
    pub(super) fn at(&self, offset: usize) -> At<'_, 'a> {
        let mut path = String::new();
        let mut node = self;
        let mut owner = None;
        'descend: loop {
            match &node.kind {
                // Errors about a whole block mapping point at its first key:
                // there the mapping itself is meant.
                NodeKind::Map(entries, _) if offset != node.span.start || entries.is_empty() => {
                    for (k, v) in entries {
                        if contains(&k.span, offset) {
                            push_key(&mut path, k);
                            return At {
                                path,
                                node: k,
                                value: Some(v),
                                map: Some(node),
                                owner,
                            };
                        }
                        if contains(&v.span, offset) {
                            push_key(&mut path, k);
                            node = v;
                            owner = Some(k);
                            continue 'descend;
                        }
                    }
                    break;
                }
                NodeKind::Seq(items, _) => {
                    for (i, item) in items.iter().enumerate() {
                        if contains(&item.span, offset) {
                            path.push_str(&format!("[{i}]"));
                            node = item;
                            owner = None;
                            continue 'descend;
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
        At {
            path,
            node,
            value: None,
            map: matches!(node.kind, NodeKind::Map(..)).then_some(node),
            owner,
        }
    }
}

/// What [`Node::at`] found.
pub(super) struct At<'t, 'a> {
    /// Its path as a user writes it: `parameters[0].type`.
    pub(super) path: String,
    /// The node.
    pub(super) node: &'t Node<'a>,
    /// When `node` is a mapping key: its value.
    pub(super) value: Option<&'t Node<'a>>,
    /// The mapping that holds `node` as a key, or `node` when it is a mapping.
    pub(super) map: Option<&'t Node<'a>>,
    /// The key whose value `map` is (none for the root and list items).
    pub(super) owner: Option<&'t Node<'a>>,
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || span.is_empty() && offset == span.start)
}

fn push_key(path: &mut String, key: &Node<'_>) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key.scalar().unwrap_or("?"));
}

enum Frame<'a> {
    Seq {
        start: usize,
        flow: bool,
        items: Vec<Node<'a>>,
    },
    Map {
        start: usize,
        flow: bool,
        entries: Vec<(Node<'a>, Node<'a>)>,
        key: Option<Node<'a>>,
    },
}

/// Splits a file into documents and builds their trees, recovering from syntax
/// errors at the next document.
pub(super) fn parse_documents<'a>(text: &'a str) -> (Vec<Doc<'a>>, Vec<SyntaxError>) {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut stack: Vec<Frame<'a>> = Vec::new();
    let mut root: Option<Node<'a>> = None;
    // End of the previous document; `None` after an error, when the next
    // document starts at its own `---`.
    let mut cursor: Option<usize> = Some(0);
    let mut doc_begin = 0;
    let mut doc_start = 0;
    let mut index = 0;
    // See `Doc::simple`.
    let mut simple = true;
    let mut nodes = 0usize;
    let off = |m: &serde_saphyr::granit_parser::Marker| m.byte_offset().unwrap_or(m.index());

    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                errors.push(SyntaxError {
                    offset: off(e.marker()),
                    message: e.kind().to_string(),
                });
                stack.clear();
                root = None;
                index += 1;
                cursor = None;
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
        };
        let start = off(&span.start);
        let end = off(&span.end);
        match &event {
            Event::Scalar(_, _, anchor, tag)
            | Event::SequenceStart(_, anchor, tag)
            | Event::MappingStart(_, anchor, tag) => {
                nodes += 1;
                if *anchor != 0 || tag.is_some() || stack.len() >= fast::MAX_DEPTH {
                    simple = false;
                }
            }
            Event::Alias(..) | Event::Anchor(..) | Event::UnresolvedAlias(..) => simple = false,
            _ => {}
        }
        let node = match event {
            Event::DocumentStart(_, version) => {
                doc_begin = cursor.unwrap_or(start);
                doc_start = start;
                stack.clear();
                root = None;
                simple = version.is_none();
                nodes = 0;
                continue;
            }
            Event::DocumentEnd => {
                if let Some(node) = root.take() {
                    docs.push(Doc {
                        index,
                        range: doc_begin..end,
                        root: node,
                        start: doc_start,
                        simple: simple
                            && nodes <= fast::MAX_NODES
                            && end - doc_begin <= fast::MAX_BYTES,
                    });
                }
                index += 1;
                cursor = Some(end);
                continue;
            }
            Event::Scalar(value, style, _, tag) => Node {
                span: start..end,
                kind: NodeKind::Scalar {
                    value,
                    plain: style == ScalarStyle::Plain,
                    tagged: tag.is_some(),
                },
            },
            Event::Alias(_) => Node {
                span: start..end,
                kind: NodeKind::Alias,
            },
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                errors.push(SyntaxError {
                    offset: start,
                    message: format!("nested more than {MAX_DEPTH} levels deep"),
                });
                stack.clear();
                root = None;
                index += 1;
                cursor = None;
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
            Event::SequenceStart(style, ..) => {
                stack.push(Frame::Seq {
                    start,
                    flow: style == StructureStyle::Flow,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(style, ..) => {
                stack.push(Frame::Map {
                    start,
                    flow: style == StructureStyle::Flow,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { start, flow, items }) => Node {
                    span: start..end.max(start),
                    kind: NodeKind::Seq(items, flow),
                },
                Some(Frame::Map {
                    start,
                    flow,
                    entries,
                    ..
                }) => Node {
                    span: start..end.max(start),
                    kind: NodeKind::Map(entries, flow),
                },
                None => continue,
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
    (docs, errors)
}
