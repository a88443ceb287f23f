//! Finding every rule phrase in a text in one pass.
//!
//! Every phrase a rule set can match — terms, `any` alternatives, exclusion
//! phrases, the parts of proximity pairs — is a run of whole words, the last
//! one optionally open-ended (`legislat*`). So a match can only start where a
//! word starts, and matching splits into two small automata:
//!
//! - **words**: a trie automaton (a DFA) over the distinct words of all
//!   phrases and the stems of open-ended ones. Each word of the text is fed
//!   through it from its first byte; most words leave the automaton after a
//!   byte or two, and the rest of such a word is skipped. A word that survives
//!   to its end is a known word (an id), and every stem met on the way is an
//!   open-ended match (`train` inside `trainers`). This is the goto function
//!   of an Aho-Corasick automaton without failure links: those are only
//!   needed for matches that start inside a word, and none may.
//! - **phrases**: a trie over word ids. From each known word, the walk follows
//!   the next words of the text while they continue some phrase, reporting
//!   each phrase that ends on the way.
//!
//! An unanchored Aho-Corasick search over every byte finds the same matches
//! but also every match inside a word, only to throw those away; this way
//! each byte is looked at once, no work is spent inside unknown words, and the
//! transition table is small enough to stay in the CPU cache (one 32-entry row
//! per trie state for the built-in rules' few dozen distinct characters).
//!
//! Text is read as the normalized form of [`crate::text`] describes (lowercase
//! letters and digits, every other character a word break) without building
//! it when the text is ASCII: the automaton ignores ASCII case and the walk
//! treats any ASCII byte that is not a letter or digit as a break. Non-ASCII
//! text is normalized first.

use std::collections::HashMap;

use crate::text::normalize_bytes_into;

/// No id (no known word, no stem, no phrase node).
const NONE: u32 = u32::MAX;

/// A node of the phrase trie: the phrases that end here, and where the next
/// word leads.
#[derive(Debug, Clone, Default)]
struct Node {
    /// Next word id → node, sorted by word id.
    next: Vec<(u32, u32)>,
    /// Phrases whose words are exactly the path to this node.
    ends: Vec<u32>,
    /// Open-ended phrases: (stem id, phrase) — the path to this node, then a
    /// word starting with the stem.
    stems: Vec<(u32, u32)>,
}

impl Node {
    fn child(&self, word: u32) -> u32 {
        match self.next.binary_search_by_key(&word, |c| c.0) {
            Ok(i) => self.next[i].1,
            Err(_) => NONE,
        }
    }
}

/// Collects phrases, then compiles them into a [`PhraseSet`].
#[derive(Debug, Default)]
pub struct PhraseBuilder {
    phrases: Vec<(String, bool)>,
    index: HashMap<(String, bool), u32>,
}

impl PhraseBuilder {
    /// Adds a normalized phrase (words separated by single spaces) and
    /// returns its id; the same phrase added twice gets the same id.
    pub fn add(&mut self, text: &str, open_ended: bool) -> u32 {
        let key = (text.to_string(), open_ended);
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
        let id = self.phrases.len() as u32;
        self.phrases.push(key.clone());
        self.index.insert(key, id);
        id
    }

    pub fn build(self) -> anyhow::Result<PhraseSet> {
        if self.phrases.len() >= NONE as usize {
            anyhow::bail!("too many rule phrases ({})", self.phrases.len());
        }
        // Distinct vocabulary strings, each a known word, a stem or both.
        let mut vocab: Vec<String> = Vec::new();
        let mut vocab_index: HashMap<String, usize> = HashMap::new();
        let mut vocab_ids: Vec<(u32, u32)> = Vec::new(); // (word id, stem id)
        let (mut words, mut stems) = (0u32, 0u32);
        let mut intern = |s: &str, stem: bool| -> u32 {
            let v = *vocab_index.entry(s.to_string()).or_insert_with(|| {
                vocab.push(s.to_string());
                vocab_ids.push((NONE, NONE));
                vocab.len() - 1
            });
            let slot = if stem {
                &mut vocab_ids[v].1
            } else {
                &mut vocab_ids[v].0
            };
            if *slot == NONE {
                let counter = if stem { &mut stems } else { &mut words };
                *slot = *counter;
                *counter += 1;
            }
            *slot
        };
        let mut nodes = vec![Node::default()];
        let mut first: Vec<u32> = Vec::new();
        let mut root_stems: Vec<Vec<u32>> = Vec::new();
        for (id, (text, open_ended)) in self.phrases.iter().enumerate() {
            let id = id as u32;
            let parts: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
            let Some((last, init)) = parts.split_last() else {
                continue; // an empty phrase never matches
            };
            let mut node = 0usize;
            for w in init {
                let word = intern(w, false);
                node = step(&mut nodes, &mut first, node, word) as usize;
            }
            if *open_ended {
                let stem = intern(last, true);
                if node == 0 {
                    if root_stems.len() <= stem as usize {
                        root_stems.resize(stem as usize + 1, Vec::new());
                    }
                    root_stems[stem as usize].push(id);
                } else {
                    nodes[node].stems.push((stem, id));
                }
            } else {
                let word = intern(last, false);
                let end = step(&mut nodes, &mut first, node, word);
                nodes[end as usize].ends.push(id);
            }
        }
        for n in &mut nodes {
            n.next.sort_unstable();
            n.stems.sort_unstable();
        }
        first.resize(words as usize, NONE);
        root_stems.resize(stems as usize, Vec::new());
        let words = WordTrie::new(&vocab, &vocab_ids)?;
        Ok(PhraseSet {
            words,
            first,
            root_stems,
            nodes,
        })
    }
}

/// The node reached from `node` by `word`, created if new. The root's
/// children (node 0) are kept in `first`, indexed by word id, for a direct
/// lookup.
fn step(nodes: &mut Vec<Node>, first: &mut Vec<u32>, node: usize, word: u32) -> u32 {
    if node == 0 {
        if first.len() <= word as usize {
            first.resize(word as usize + 1, NONE);
        }
        if first[word as usize] == NONE {
            nodes.push(Node::default());
            first[word as usize] = (nodes.len() - 1) as u32;
        }
        return first[word as usize];
    }
    if let Some(&(_, n)) = nodes[node].next.iter().find(|c| c.0 == word) {
        return n;
    }
    nodes.push(Node::default());
    let n = (nodes.len() - 1) as u32;
    nodes[node].next.push((word, n));
    n
}

/// A word of the text that some phrase knows.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// Position of the word in the text (0-based).
    at: u32,
    /// Known-word id, or [`NONE`].
    word: u32,
    /// The stems this word starts with: `stems[from..to]` of the scratch.
    from: u32,
    to: u32,
}

/// Reusable buffers for [`PhraseSet::find`].
#[derive(Debug, Default)]
pub struct PhraseScratch {
    tokens: Vec<Token>,
    stems: Vec<u32>,
    norm: Vec<u8>,
}

/// Compiled phrases; see the module documentation.
#[derive(Debug, Clone)]
pub struct PhraseSet {
    words: WordTrie,
    /// Known-word id → node after that word as a phrase's first word.
    first: Vec<u32>,
    /// Stem id → one-word open-ended phrases with that stem.
    root_stems: Vec<Vec<u32>>,
    nodes: Vec<Node>,
}

impl PhraseSet {
    /// Calls `hit(phrase, first_word, end_word)` for every occurrence of
    /// every phrase in `text` (word positions, end exclusive), in order of
    /// first word, then length. Returns the number of words in the text.
    pub fn find(
        &self,
        text: &str,
        scratch: &mut PhraseScratch,
        mut hit: impl FnMut(u32, u32, u32),
    ) -> u32 {
        let words = if text.is_ascii() {
            self.tokenize(text.as_bytes(), &mut scratch.tokens, &mut scratch.stems)
        } else {
            normalize_bytes_into(text, &mut scratch.norm);
            self.tokenize(&scratch.norm, &mut scratch.tokens, &mut scratch.stems)
        };
        let (tokens, stems) = (&scratch.tokens, &scratch.stems);
        for (t, tok) in tokens.iter().enumerate() {
            for &stem in &stems[tok.from as usize..tok.to as usize] {
                for &p in &self.root_stems[stem as usize] {
                    hit(p, tok.at, tok.at + 1);
                }
            }
            if tok.word == NONE {
                continue;
            }
            let mut node = self.first[tok.word as usize];
            if node == NONE {
                continue;
            }
            for &p in &self.nodes[node as usize].ends {
                hit(p, tok.at, tok.at + 1);
            }
            let mut k = t + 1;
            while k < tokens.len() && tokens[k].at == tokens[k - 1].at + 1 {
                let n = &self.nodes[node as usize];
                let next = tokens[k];
                if !n.stems.is_empty() {
                    for &stem in &stems[next.from as usize..next.to as usize] {
                        let from = n.stems.partition_point(|s| s.0 < stem);
                        for &(_, p) in n.stems[from..].iter().take_while(|s| s.0 == stem) {
                            hit(p, tok.at, next.at + 1);
                        }
                    }
                }
                if next.word == NONE {
                    break;
                }
                node = n.child(next.word);
                if node == NONE {
                    break;
                }
                for &p in &self.nodes[node as usize].ends {
                    hit(p, tok.at, next.at + 1);
                }
                k += 1;
            }
        }
        words
    }

    /// Splits `bytes` into words and keeps those the trie knows (as a word
    /// or by a stem). Returns the number of words.
    fn tokenize(&self, bytes: &[u8], tokens: &mut Vec<Token>, stems: &mut Vec<u32>) -> u32 {
        tokens.clear();
        stems.clear();
        match &self.words.trans {
            Table::Small(t) => self.words.walk(t, bytes, tokens, stems),
            Table::Large(t) => self.words.walk(t, bytes, tokens, stems),
        }
    }
}

/// A transition: the next state's index, with [`Cell::WORD`] set when that
/// state ends a known word and [`Cell::STEM`] when it ends a stem; 0 is the
/// dead state. Tries of under 16,384 states use 16-bit cells, so more of the
/// table stays in the CPU's first-level cache.
trait Cell: Copy {
    const WORD: u32;
    const STEM: u32;
    fn get(self) -> u32;
    fn new(value: u32) -> Self;
}

impl Cell for u16 {
    const WORD: u32 = 1 << 15;
    const STEM: u32 = 1 << 14;
    fn get(self) -> u32 {
        u32::from(self)
    }
    fn new(value: u32) -> Self {
        value as u16
    }
}

impl Cell for u32 {
    const WORD: u32 = 1 << 31;
    const STEM: u32 = 1 << 30;
    fn get(self) -> u32 {
        self
    }
    fn new(value: u32) -> Self {
        value
    }
}

const DEAD: u32 = 0;
const ROOT: u32 = 1;

#[derive(Debug, Clone)]
enum Table {
    Small(Vec<u16>),
    Large(Vec<u32>),
}

/// A trie automaton over words and stems; letters of either case share a
/// symbol, and characters no word uses lead to [`DEAD`]. States are numbered
/// breadth-first, so the rows of the first few letters — where most words of
/// a text leave the trie — sit together at the start of the table.
#[derive(Debug, Clone)]
struct WordTrie {
    /// Byte → symbol: 0 for a word break (an ASCII byte that is not a letter
    /// or digit), 1 for a word byte no phrase uses (its column is all dead),
    /// 2 and up for the bytes of the phrases' words.
    class: [u8; 256],
    /// log2 of the row length (symbols, rounded up to a power of two).
    shift: u32,
    /// `state << shift | symbol` → next transition, see [`Cell`].
    trans: Table,
    /// Per state: the known word it ends, or [`NONE`].
    word: Vec<u32>,
    /// Per state: the stem it ends, or [`NONE`].
    stem: Vec<u32>,
}

impl WordTrie {
    fn new(vocab: &[String], ids: &[(u32, u32)]) -> anyhow::Result<Self> {
        let mut symbol = [0u8; 256];
        for (b, c) in symbol.iter_mut().enumerate() {
            let b = b as u8;
            *c = u8::from(b >= 128 || b.is_ascii_alphanumeric());
        }
        let mut symbols = 1usize;
        for b in vocab.iter().flat_map(|w| w.bytes()) {
            let b = b.to_ascii_lowercase();
            if symbol[usize::from(b)] <= 1 {
                symbols += 1;
                let s = u8::try_from(symbols)
                    .map_err(|_| anyhow::anyhow!("rule terms use too many distinct characters"))?;
                symbol[usize::from(b)] = s;
                symbol[usize::from(b.to_ascii_uppercase())] = s;
            }
        }
        let shift = (symbols + 1).next_power_of_two().trailing_zeros();
        // A plain trie first (state 0 dead, 1 the root; values are indexes).
        let mut children: Vec<Vec<(u8, usize)>> = vec![Vec::new(), Vec::new()];
        let mut ends = vec![(NONE, NONE); 2];
        for (w, &(word, stem)) in vocab.iter().zip(ids) {
            let mut state = 1usize;
            for b in w.bytes() {
                let sym = symbol[usize::from(b)];
                state = match children[state].iter().find(|c| c.0 == sym) {
                    Some(&(_, next)) => next,
                    None => {
                        children.push(Vec::new());
                        ends.push((NONE, NONE));
                        let next = children.len() - 1;
                        children[state].push((sym, next));
                        next
                    }
                };
            }
            if word != NONE {
                ends[state].0 = word;
            }
            if stem != NONE {
                ends[state].1 = stem;
            }
        }
        if children.len() >= 1 << 30 {
            anyhow::bail!("rule terms are too many to compile");
        }
        // Breadth-first numbering, then the table.
        let mut order = vec![0usize, 1];
        let mut k = 1;
        while k < order.len() {
            let mut next: Vec<(u8, usize)> = children[order[k]].clone();
            next.sort_unstable();
            order.extend(next.iter().map(|c| c.1));
            k += 1;
        }
        let mut number = vec![0usize; children.len()];
        for (new, &old) in order.iter().enumerate() {
            number[old] = new;
        }
        let mut word = vec![NONE; order.len()];
        let mut stem = vec![NONE; order.len()];
        for (new, &old) in order.iter().enumerate() {
            (word[new], stem[new]) = ends[old];
        }
        let trans = if order.len() < 1 << 14 {
            Table::Small(table::<u16>(&order, &children, &ends, &number, shift))
        } else {
            Table::Large(table::<u32>(&order, &children, &ends, &number, shift))
        };
        Ok(WordTrie {
            class: symbol,
            shift,
            trans,
            word,
            stem,
        })
    }

    /// The tokenizing walk over one text; see [`PhraseSet::tokenize`].
    fn walk<T: Cell>(
        &self,
        trans: &[T],
        bytes: &[u8],
        tokens: &mut Vec<Token>,
        stems: &mut Vec<u32>,
    ) -> u32 {
        let (class, shift) = (&self.class, self.shift);
        let index = |state: u32| (state & (T::STEM - 1)) as usize;
        let n = bytes.len();
        let mut i = 0;
        let mut at = 0u32;
        loop {
            while i < n && class[usize::from(bytes[i])] == 0 {
                i += 1;
            }
            if i == n {
                break;
            }
            let from = stems.len() as u32;
            let mut state = ROOT;
            while i < n {
                let c = class[usize::from(bytes[i])];
                if c == 0 {
                    break;
                }
                i += 1;
                state = trans[(index(state) << shift) | usize::from(c)].get();
                // One test for the two rare cases: the dead state (0, which
                // wraps to all ones) and a state that ends a stem.
                if state.wrapping_sub(1) & T::STEM != 0 {
                    if state == DEAD {
                        // Not a word or stem of any phrase: skip the rest.
                        while i < n && class[usize::from(bytes[i])] != 0 {
                            i += 1;
                        }
                        break;
                    }
                    stems.push(self.stem[index(state)]);
                }
            }
            let word = if state & T::WORD != 0 {
                self.word[index(state)]
            } else {
                NONE
            };
            let to = stems.len() as u32;
            if word != NONE || to > from {
                tokens.push(Token { at, word, from, to });
            }
            at += 1;
        }
        at
    }
}

/// The transition table of a trie numbered by `order` (`number` maps old
/// state indexes to new ones).
fn table<T: Cell>(
    order: &[usize],
    children: &[Vec<(u8, usize)>],
    ends: &[(u32, u32)],
    number: &[usize],
    shift: u32,
) -> Vec<T> {
    let mut trans = vec![T::new(DEAD); order.len() << shift];
    for (new, &old) in order.iter().enumerate() {
        for &(sym, child) in &children[old] {
            let (w, s) = ends[child];
            let mut t = number[child] as u32;
            if w != NONE {
                t |= T::WORD;
            }
            if s != NONE {
                t |= T::STEM;
            }
            trans[(new << shift) | usize::from(sym)] = T::new(t);
        }
    }
    trans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(phrases: &[(&str, bool)], text: &str) -> (Vec<(usize, u32, u32)>, u32) {
        let mut b = PhraseBuilder::default();
        for (p, open) in phrases {
            b.add(p, *open);
        }
        let set = b.build().unwrap();
        let mut out = Vec::new();
        let words = set.find(text, &mut PhraseScratch::default(), |p, s, e| {
            out.push((p as usize, s, e))
        });
        (out, words)
    }

    #[test]
    fn whole_words_and_open_ends() {
        let phrases = [("art", false), ("train", true), ("task force", false)];
        assert_eq!(find(&phrases, "smart start"), (vec![], 2));
        assert_eq!(find(&phrases, "An ART class"), (vec![(0, 1, 2)], 3));
        assert_eq!(
            find(&phrases, "Trainers; train-the-trainer"),
            (vec![(1, 0, 1), (1, 1, 2), (1, 3, 4)], 4)
        );
        assert_eq!(
            find(&phrases, "the Task-Force, task forces"),
            (vec![(2, 1, 3)], 5)
        );
        assert_eq!(find(&phrases, " ,.; "), (vec![], 0));
    }

    #[test]
    fn overlapping_phrases_are_all_reported() {
        let phrases = [
            ("force", false),
            ("task force", false),
            ("task", false),
            ("task force member", true),
            ("force", true),
        ];
        let (hits, _) = find(&phrases, "task force members");
        assert_eq!(
            hits,
            vec![(2, 0, 1), (1, 0, 2), (3, 0, 3), (4, 1, 2), (0, 1, 2)]
        );
    }

    #[test]
    fn same_phrase_same_id_and_non_ascii_text() {
        let mut b = PhraseBuilder::default();
        assert_eq!(b.add("niño", false), 0);
        assert_eq!(b.add("niño", false), 0);
        assert_eq!(b.add("niño", true), 1);
        let set = b.build().unwrap();
        let mut out = Vec::new();
        set.find(
            "Los NIÑOS y el niño",
            &mut PhraseScratch::default(),
            |p, s, e| out.push((p, s, e)),
        );
        assert_eq!(out, vec![(1, 1, 2), (1, 4, 5), (0, 4, 5)]);
    }

    /// Every occurrence, found the slow way: each phrase at each word.
    fn reference(phrases: &[(String, bool)], text: &str) -> Vec<(usize, u32, u32)> {
        let norm = crate::text::normalize(text);
        let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
        let mut out = Vec::new();
        for (p, (phrase, open)) in phrases.iter().enumerate() {
            let parts: Vec<&str> = phrase.split(' ').collect();
            for start in 0..words.len() {
                let Some(window) = words.get(start..start + parts.len()) else {
                    continue;
                };
                let last = parts.len() - 1;
                let hit = window.iter().zip(&parts).enumerate().all(|(k, (w, p))| {
                    if k == last && *open {
                        w.starts_with(p)
                    } else {
                        w == p
                    }
                });
                if hit {
                    out.push((p, start as u32, (start + parts.len()) as u32));
                }
            }
        }
        out.sort_unstable();
        out
    }

    proptest::proptest! {
        #[test]
        fn finds_exactly_what_a_word_by_word_check_finds(
            phrases in proptest::collection::vec(("(a|ab|abc|b|ba|é|c1)( (a|ab|b|ba|é|c1)){0,2}", proptest::bool::ANY), 1..12),
            text in "((a|Ab|ABC|b|ba|É|c1|abcd|x)[ ,.;-]{1,2}){0,14}",
        ) {
            let mut b = PhraseBuilder::default();
            let ids: Vec<u32> = phrases.iter().map(|(p, open)| b.add(p, *open)).collect();
            let set = b.build().unwrap();
            // Duplicates share an id: compare against the first of each.
            let distinct: Vec<(String, bool)> = phrases
                .iter()
                .enumerate()
                .filter(|(i, _)| !ids[..*i].contains(&ids[*i]))
                .map(|(_, p)| p.clone())
                .collect();
            let mut found = Vec::new();
            let words = set.find(&text, &mut PhraseScratch::default(), |p, s, e| {
                found.push((p as usize, s, e))
            });
            found.sort_unstable();
            proptest::prop_assert_eq!(found, reference(&distinct, &text));
            let expected = crate::text::normalize(&text).split(' ').filter(|w| !w.is_empty()).count();
            proptest::prop_assert_eq!(words as usize, expected);
        }
    }

    #[test]
    fn large_tries_use_wide_cells() {
        // 3,000 pseudo-random ten-letter words: over 16,384 trie states.
        let mut seed = 7u64;
        let mut words = Vec::new();
        for _ in 0..3000 {
            let w: String = (0..10)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'a' + ((seed >> 33) % 26) as u8)
                })
                .collect();
            words.push(w);
        }
        let mut b = PhraseBuilder::default();
        for w in &words {
            b.add(w, false);
        }
        let id = b.add(&words[2999][..6], true);
        let set = b.build().unwrap();
        assert!(matches!(set.words.trans, Table::Large(_)));
        let text = format!("{} x {}", words[10].to_uppercase(), words[2999]);
        let mut out = Vec::new();
        set.find(&text, &mut PhraseScratch::default(), |p, s, e| {
            out.push((p, s, e))
        });
        assert_eq!(out, vec![(10, 0, 1), (id, 2, 3), (2999, 2, 3)]);
    }

    #[test]
    fn no_phrases_counts_words() {
        assert_eq!(find(&[], "one two, three"), (vec![], 3));
    }
}
