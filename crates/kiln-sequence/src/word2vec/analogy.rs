//! Word vectors as a user queries them: nearest neighbours by cosine similarity and analogies
//! "a is to b as c is to ?" by 3CosAdd (Mikolov et al. 2013, "Efficient Estimation…", Sec. 4.1:
//! the word closest to `b − a + c`, the three question words excluded), scored on Google's
//! `questions-words.txt`.

use std::io::Write;

use super::WordVocab;

/// Unit-length word vectors, row-major `[words, dim]`, with their words.
///
/// ```
/// use kiln_sequence::word2vec::{Embeddings, WordVocab};
/// let vocab = WordVocab::fit("paris france rome italy", 1);
/// // Rows in the vocabulary's order (alphabetical here: every word is seen once).
/// let rows = |w: &str| match w { "paris" => [1.0, 0.0, 1.0], "france" => [1.0, 0.0, 0.0],
///                                "rome" => [0.0, 1.0, 1.0], _ => [0.0, 1.0, 0.0] };
/// let vectors = vocab.words.iter().flat_map(|w| rows(w)).collect();
/// let e = Embeddings::new(vocab, 3, vectors);
/// // france is to paris as italy is to rome
/// assert_eq!(e.analogy("france", "paris", "italy", 1).unwrap()[0].0, "rome");
/// ```
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub vocab: WordVocab,
    pub dim: usize,
    unit: Vec<f32>,
    raw: Vec<f32>,
}

/// One line of `questions-words.txt`, with its section (`: capital-common-countries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalogyQuestion {
    pub section: String,
    pub words: [String; 4],
}

impl AnalogyQuestion {
    /// Reads word2vec's format: `: section` lines, then `a b c d` lines.
    pub fn parse_file(text: &str) -> Result<Vec<Self>, String> {
        let mut section = String::new();
        let mut questions = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix(':') {
                section = name.trim().to_string();
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let words: [&str; 4] =
                words.try_into().map_err(|_| format!("line {}: an analogy is four words, not '{line}'", n + 1))?;
            questions.push(Self { section: section.clone(), words: words.map(str::to_lowercase) });
        }
        Ok(questions)
    }

    /// word2vec's split of Google's sections: the five `gram*`-less sections are semantic.
    pub fn is_syntactic(&self) -> bool {
        self.section.starts_with("gram")
    }
}

/// Analogy accuracy over the questions whose four words are all in the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogyScore {
    pub correct: usize,
    pub asked: usize,
    pub total: usize,
    pub semantic: (usize, usize),
    pub syntactic: (usize, usize),
}

impl AnalogyScore {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.asked.max(1) as f64
    }

    /// The share of the file's questions the vocabulary covers.
    pub fn coverage(&self) -> f64 {
        self.asked as f64 / self.total.max(1) as f64
    }
}

impl Embeddings {
    /// `vectors` row-major `[vocab.len(), dim]`.
    pub fn new(vocab: WordVocab, dim: usize, vectors: Vec<f32>) -> Self {
        let mut unit = vectors.clone();
        for row in unit.chunks_mut(dim) {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|v| *v /= norm);
        }
        Self { vocab, dim, unit, raw: vectors }
    }

    fn row(&self, id: u32) -> &[f32] {
        &self.unit[id as usize * self.dim..(id as usize + 1) * self.dim]
    }

    /// The `top` words most similar to `query` (a unit vector), skipping `exclude`.
    fn nearest_to(&self, query: &[f32], exclude: &[u32], top: usize) -> Vec<(u32, f32)> {
        let mut best: Vec<(u32, f32)> = Vec::with_capacity(top + 1);
        for id in 0..self.vocab.len() as u32 {
            if exclude.contains(&id) {
                continue;
            }
            let score: f32 = self.row(id).iter().zip(query).map(|(a, b)| a * b).sum();
            if best.len() < top || score > best[best.len() - 1].1 {
                let at = best.partition_point(|&(_, s)| s >= score);
                best.insert(at, (id, score));
                best.truncate(top);
            }
        }
        best
    }

    fn named(&self, found: Vec<(u32, f32)>) -> Vec<(String, f32)> {
        found.into_iter().map(|(id, s)| (self.vocab.words[id as usize].clone(), s)).collect()
    }

    /// The `top` nearest neighbours of `word` by cosine similarity, or `None` if it is not in the
    /// vocabulary.
    pub fn similar(&self, word: &str, top: usize) -> Option<Vec<(String, f32)>> {
        let id = self.vocab.id(word)?;
        Some(self.named(self.nearest_to(self.row(id), &[id], top)))
    }

    /// The `top` answers to "`a` is to `b` as `c` is to ?", or the first word not in the vocabulary.
    pub fn analogy(&self, a: &str, b: &str, c: &str, top: usize) -> Result<Vec<(String, f32)>, String> {
        let ids: Vec<u32> = [a, b, c]
            .iter()
            .map(|w| self.vocab.id(w).ok_or_else(|| format!("'{w}' is not in the vocabulary")))
            .collect::<Result<_, _>>()?;
        Ok(self.named(self.nearest_to(&self.offset(&ids), &ids, top)))
    }

    /// `b − a + c`, normalised.
    fn offset(&self, ids: &[u32]) -> Vec<f32> {
        let (a, b, c) = (self.row(ids[0]), self.row(ids[1]), self.row(ids[2]));
        let mut q: Vec<f32> = (0..self.dim).map(|j| b[j] - a[j] + c[j]).collect();
        let norm = q.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        q.iter_mut().for_each(|v| *v /= norm);
        q
    }

    /// 3CosAdd accuracy on `questions`, counting a question only when its four words are known.
    pub fn score(&self, questions: &[AnalogyQuestion]) -> AnalogyScore {
        let mut s = AnalogyScore { correct: 0, asked: 0, total: questions.len(), semantic: (0, 0), syntactic: (0, 0) };
        for q in questions {
            let Some(ids) = q.words.iter().map(|w| self.vocab.id(w)).collect::<Option<Vec<u32>>>() else { continue };
            let right = self.nearest_to(&self.offset(&ids), &ids[..3], 1).first().map(|&(id, _)| id) == Some(ids[3]);
            let part = if q.is_syntactic() { &mut s.syntactic } else { &mut s.semantic };
            part.1 += 1;
            s.asked += 1;
            if right {
                part.0 += 1;
                s.correct += 1;
            }
        }
        s
    }

    /// word2vec's text format (`vocab dim`, then `word v1 … vd` per line), as gensim's
    /// `KeyedVectors.load_word2vec_format(path, binary=False)` reads it; the raw vectors.
    pub fn write_word2vec_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{} {}", self.vocab.len(), self.dim)?;
        for (i, word) in self.vocab.words.iter().enumerate() {
            write!(out, "{word}")?;
            for v in &self.raw[i * self.dim..(i + 1) * self.dim] {
                write!(out, " {v}")?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}
