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
//! word trie, stored as a double array of eight bytes per state, is small
//! enough to stay in the CPU's first-level cache (33 KB for the built-in
//! rules).
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
        self.words.walk(bytes, tokens, stems)
    }
}

/// A slot of the double array: the state there, if any.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Where this state's children start (child for symbol `c` at
    /// `base + c`), with [`WORD`] set when the state ends a known word and
    /// [`STEM`] when it ends a stem.
    base: u32,
    /// The parent state's slot, or [`FREE`].
    check: u32,
}

const WORD: u32 = 1 << 31;
const STEM: u32 = 1 << 30;
const BASE: u32 = STEM - 1;
/// `check` of a slot no state uses.
const FREE: u32 = u32::MAX;
/// The root's slot.
const ROOT: u32 = 0;

/// A trie automaton over words and stems, letters of either case sharing a
/// symbol, stored as a double array: the child of the state in slot `s` for
/// symbol `c` is in slot `base(s) + c` if that slot's `check` is `s`, and
/// there is no such child otherwise. Children of different states interleave
/// in the gaps of one array, so a step costs one load from a table of eight
/// bytes per state — small enough for the CPU's first-level cache, where a
/// table with a full row per state (256 symbols or a power of two of the
/// rules' symbols) is not. States are placed breadth-first, so the first
/// letters, where most words of a text leave the trie, sit together.
#[derive(Debug, Clone)]
struct WordTrie {
    /// Byte → symbol: 0 for a word break (an ASCII byte that is not a letter
    /// or digit), 1 for a word byte no phrase uses (no state has a child for
    /// it), 2 and up for the bytes of the phrases' words.
    class: [u8; 256],
    slots: Vec<Slot>,
    /// Per slot: the known word its state ends, or [`NONE`].
    word: Vec<u32>,
    /// Per slot: the stem its state ends, or [`NONE`].
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
        // A plain trie first (state 0 the root), children sorted by symbol.
        let mut children: Vec<Vec<(u8, usize)>> = vec![Vec::new()];
        let mut ends = vec![(NONE, NONE)];
        for (w, &(word, stem)) in vocab.iter().zip(ids) {
            let mut state = 0usize;
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
        for c in &mut children {
            c.sort_unstable();
        }
        // Place the states breadth-first: each state's children go at the
        // lowest base where all their slots are free.
        let mut free = FreeSlots::default();
        free.take(ROOT as usize);
        let mut slot_of = vec![0usize; children.len()];
        let mut base_of = vec![0usize; children.len()];
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(state) = queue.pop_front() {
            let kids = &children[state];
            let Some(&(first, _)) = kids.first() else {
                continue; // a leaf: no child slot is ever checked against it
            };
            let first = usize::from(first);
            let mut at = first;
            let base = loop {
                at = free.next(at);
                let base = at - first;
                if kids
                    .iter()
                    .all(|&(c, _)| free.is_free(base + usize::from(c)))
                {
                    break base;
                }
                at += 1;
            };
            if base + 256 >= BASE as usize {
                anyhow::bail!("rule terms are too many to compile");
            }
            base_of[state] = base;
            for &(c, child) in kids {
                let slot = base + usize::from(c);
                free.take(slot);
                slot_of[child] = slot;
                queue.push_back(child);
            }
        }
        // Room after the last slot for any symbol from any base.
        let len = slot_of.iter().chain(&base_of).copied().max().unwrap_or(0) + 257;
        let mut slots = vec![
            Slot {
                base: 0,
                check: FREE,
            };
            len
        ];
        let mut word = vec![NONE; len];
        let mut stem = vec![NONE; len];
        for (state, kids) in children.iter().enumerate() {
            let at = slot_of[state];
            let (w, s) = ends[state];
            let mut base = base_of[state] as u32;
            if w != NONE {
                base |= WORD;
            }
            if s != NONE {
                base |= STEM;
            }
            slots[at].base = base;
            (word[at], stem[at]) = (w, s);
            for &(_, child) in kids {
                slots[slot_of[child]].check = at as u32;
            }
        }
        Ok(WordTrie {
            class: symbol,
            slots,
            word,
            stem,
        })
    }

    /// The tokenizing walk over one text; see [`PhraseSet::tokenize`].
    fn walk(&self, bytes: &[u8], tokens: &mut Vec<Token>, stems: &mut Vec<u32>) -> u32 {
        let (class, slots) = (&self.class, &self.slots[..]);
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
            let mut base = slots[ROOT as usize].base;
            while i < n {
                let c = class[usize::from(bytes[i])];
                if c == 0 {
                    break;
                }
                i += 1;
                let next = (base & BASE) + u32::from(c);
                let slot = slots[next as usize];
                if slot.check != state {
                    // Not a word or stem of any phrase: skip the rest.
                    while i < n && class[usize::from(bytes[i])] != 0 {
                        i += 1;
                    }
                    base = 0;
                    break;
                }
                state = next;
                base = slot.base;
                if base & STEM != 0 {
                    stems.push(self.stem[state as usize]);
                }
            }
            let word = if base & WORD != 0 {
                self.word[state as usize]
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

/// Which slots of a double array are taken, with a fast search for the
/// next free one (64 slots per step).
#[derive(Debug, Default)]
struct FreeSlots {
    taken: Vec<u64>,
}

impl FreeSlots {
    fn is_free(&self, slot: usize) -> bool {
        self.taken
            .get(slot / 64)
            .is_none_or(|w| w & (1 << (slot % 64)) == 0)
    }

    fn take(&mut self, slot: usize) {
        if self.taken.len() <= slot / 64 {
            self.taken.resize(slot / 64 + 1, 0);
        }
        self.taken[slot / 64] |= 1 << (slot % 64);
    }

    /// The first free slot at or after `from`.
    fn next(&self, from: usize) -> usize {
        let mut k = from / 64;
        let mut w = match self.taken.get(k) {
            Some(w) => !w & (!0u64 << (from % 64)),
            None => return from,
        };
        while w == 0 {
            k += 1;
            match self.taken.get(k) {
                Some(t) => w = !t,
                None => return k * 64,
            }
        }
        k * 64 + w.trailing_zeros() as usize
    }
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
    fn large_tries() {
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
        assert!(set.words.slots.len() > 16_384);
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
