/**
 * The texts of the tokenizer vectors (`tokenizer/encode.jsonl`) and the corpus of the
 * BPE-learning vector (`tokenizer/bpe-learn/corpus.txt`), written here so that the
 * pack is regenerated from source. Each kind of text a GPT-1 port's TextEncoder
 * (ftfy, standardize, spaCy, lower-case, BPE) tends to get wrong is covered.
 *
 * @module
 */

/** Plain English sentences, also the corpus of the BPE-learning vector and of the pretraining steps. */
export const BPE_CORPUS: readonly string[] = [
  'The president is a very good man.',
  'She said that the weather would be fine tomorrow.',
  'A quick brown fox jumps over the lazy dog.',
  'They were walking along the river when it started to rain.',
  'He opened the door and looked outside at the empty street.',
  'The children played in the garden until the sun went down.',
  'We need to buy bread, milk, eggs and some fresh fruit.',
  'It was the best of times, it was the worst of times.',
  'The committee will meet again on the first Monday of March.',
  'Reading books is a good way to learn about the world.',
  'The old man sat by the fire and told stories of the sea.',
  'Nobody knew where the letter had come from.',
  'The train to the city leaves at half past seven.',
  'Her brother works as an engineer in a large company.',
  'The results of the experiment were surprising to everyone.',
  'Please write your name at the top of the page.',
];

const QUOTES = [
  '"I\'m sure he is," said the man.',
  '\u201cHello,\u201d she whispered, \u2018are you there?\u2019',
  "'Single quotes' and \"double quotes\" in one line.",
  '``LaTeX quotes\'\' and `backticks`',
  '"Nested \'quotes\' inside," he wrote.',
  '\u00abGuillemets\u00bb and \u201elow quotes\u201c',
];

const CONTRACTIONS = [
  "I'm not sure it's right, but we'll see.",
  "They don't know what they're doing, do they?",
  "She can't come; he won't come; we shouldn't go.",
  "It's John's book, not the teachers' books.",
  "Y'all ain't gonna believe what I'd've done.",
  "o'clock, rock'n'roll, 'tis, ma'am",
  'I\u2019m using a curly apostrophe: don\u2019t, won\u2019t.',
];

const NEWLINES = [
  'line one\nline two',
  'paragraph one.\n\nparagraph two.',
  '  leading and trailing spaces  ',
  'tabs\tbetween\twords',
  'windows\r\nline endings\r\n',
  '\n\n\nonly newlines first',
  'many     spaces    inside',
];

const ACCENTS = [
  'café, naïve, résumé, jalapeño',
  'Zürich and São Paulo and Kraków',
  'Ångström, façade, coöperate, Noël',
  'ÉCOLE ÉLÉMENTAIRE',
  'Dvořák, Bjørn, Łódź, Çelik',
  'e\u0301 (e + combining acute) vs é',
  'ﬁne ligature ﬂow',
];

const MOJIBAKE = [
  'cafÃ©',
  'The Mona Lisa doesnâ€™t have eyebrows.',
  'â€œquotedâ€\x9d text',
  'naÃ¯ve rÃ©sumÃ©',
  'Ã¼ber GrÃ¶ÃŸe',
  'It\u00e2\u20ac\u2122s broken',
];

const ENTITIES = [
  'Fish &amp; chips',
  '&lt;b&gt;bold&lt;/b&gt;',
  'caf&eacute; and &copy; 2018',
  '&quot;quoted&quot; and &#39;single&#39;',
  '&#8220;numeric&#8221; &#x2014; dash',
  'AT&T and R&D without entities',
  '&nbsp;non-breaking&nbsp;space',
];

const EMOJI = [
  'I love it 😀',
  'Thumbs up 👍🏽 and a flag 🇫🇷',
  'family 👨‍👩‍👧 emoji',
  '❤️ heart and ☕ coffee',
  'math ∑ ∫ √ ∞ and arrows → ←',
  'CJK 漢字 and かな and 한국어',
  'Greek αβγ and Cyrillic привет',
];

const MISC = [
  '',
  ' ',
  'a',
  'A',
  '.',
  '...',
  '!!!???',
  '1234567890',
  '3.14159 and 1,000,000 and 10%',
  'e-mail: someone@example.com',
  'URL: https://example.com/path?q=1&r=2',
  'hyphen-ated and em\u2014dash and en\u2013dash',
  'U.S.A. and e.g. and i.e. and Mr. Smith',
  'C++ and C# and .NET',
  '$5.00 and €10 and £3',
  '(parentheses) [brackets] {braces}',
  'snake_case and camelCase and SCREAMING',
  'antidisestablishmentarianism',
  'supercalifragilisticexpialidocious',
  'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz',
];

/** Every category, then pairwise joins of them (one from each of two categories), for a few hundred texts. */
function allTexts(): string[] {
  const groups = [BPE_CORPUS, QUOTES, CONTRACTIONS, NEWLINES, ACCENTS, MOJIBAKE, ENTITIES, EMOJI, MISC];
  const single = groups.flat();
  const joined: string[] = [];
  for (let i = 0; i < groups.length; i++) {
    for (let j = 0; j < groups.length; j++) {
      if (i === j) continue;
      for (let k = 0; k < 3; k++) {
        const a = groups[i][(k * 5 + j) % groups[i].length];
        const b = groups[j][(k * 3 + i) % groups[j].length];
        joined.push(k === 1 ? `${a}\n${b}` : `${a} ${b}`);
      }
    }
  }
  return [...single, ...joined];
}

/** The tokenizer vectors' texts. */
export const TOKENIZER_TEXTS: readonly string[] = Object.freeze(allTexts());
