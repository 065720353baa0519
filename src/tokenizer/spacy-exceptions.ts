/**
 * spaCy 2's English tokenizer exceptions ("special cases"): strings that are
 * split in a fixed way, or kept whole, before any punctuation rule applies.
 * Only the `ORTH` of each piece matters for tokenization, so each entry is the
 * list of piece texts, which concatenate to the key.
 *
 * The table is built the way spaCy builds it, so that it can be read against
 * the source: `spacy/lang/tokenizer_exceptions.py` (`BASE_EXCEPTIONS`:
 * whitespace, `a.`–`z.`, emoticons) updated with
 * `spacy/lang/en/tokenizer_exceptions.py` (contractions, times, abbreviations),
 * both from spaCy 2.x. Exceptions are **case-sensitive**: spaCy sees the text
 * before `TextEncoder.encode` lower-cases the tokens, so `Mr.` and `mr.`
 * tokenize differently.
 *
 * @module
 */

function title(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `spacy/lang/tokenizer_exceptions.py: BASE_EXCEPTIONS`. */
function baseExceptions(): Map<string, readonly string[]> {
  const exc = new Map<string, readonly string[]>();
  for (const orth of [' ', '\t', '\\t', '\n', '\\n', '\u2014', '\u00a0']) exc.set(orth, [orth]);
  const singles = [
    "'", '\\")', '<space>', "''", 'C++',
    ...'abcdefghijklmnopqrstuvwxyzäöü'.split('').map((c) => `${c}.`),
  ];
  for (const orth of singles) exc.set(orth, [orth]);
  for (const orth of EMOTICONS) exc.set(orth, [orth]);
  return exc;
}

/** The emoticons of `BASE_EXCEPTIONS`, kept whole. */
const EMOTICONS = `
:) :-) :)) :-)) :))) :-))) (: (-: =) (= ") :] :-] [: [-: :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; (-;
:( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-| :1 :P :-P :p :-p
:O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D ;D ;-D =D xD XD xDD XDD
8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o o_O O_o O_O 0_o o_0 0_0
o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<) (*_*) (¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ)
¯\\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>
`.split(/\s+/).filter((s) => s !== '');

/** `spacy/lang/en/tokenizer_exceptions.py: TOKENIZER_EXCEPTIONS`. */
function englishExceptions(): Map<string, readonly string[]> {
  const exc = new Map<string, readonly string[]>();
  const add = (...pieces: string[]) => exc.set(pieces.join(''), pieces);

  // Pronouns
  for (const orth of ['i', 'I']) {
    add(orth, "'m"); add(orth, 'm'); add(orth, "'m", 'a'); add(orth, 'm', 'a');
  }
  for (const pron of ['i', 'you', 'he', 'she', 'it', 'we', 'they']) {
    for (const orth of [pron, title(pron)]) {
      add(orth, "'ll"); add(orth, 'll'); add(orth, "'ll", "'ve"); add(orth, 'll', 've');
      add(orth, "'d"); add(orth, 'd'); add(orth, "'d", "'ve"); add(orth, 'd', 've');
    }
  }
  for (const pron of ['i', 'you', 'we', 'they']) {
    for (const orth of [pron, title(pron)]) { add(orth, "'ve"); add(orth, 've'); }
  }
  for (const pron of ['you', 'we', 'they']) {
    for (const orth of [pron, title(pron)]) { add(orth, "'re"); add(orth, 're'); }
  }
  for (const pron of ['he', 'she', 'it']) {
    for (const orth of [pron, title(pron)]) { add(orth, "'s"); add(orth, 's'); }
  }

  // W-words, relative pronouns, prepositions etc.
  for (const word of ['who', 'what', 'when', 'where', 'why', 'how', 'there', 'that']) {
    for (const orth of [word, title(word)]) {
      add(orth, "'s"); add(orth, 's');
      add(orth, "'ll"); add(orth, 'll'); add(orth, "'ll", "'ve"); add(orth, 'll', 've');
      add(orth, "'re"); add(orth, 're');
      add(orth, "'ve"); add(orth, 've');
      add(orth, "'d"); add(orth, 'd'); add(orth, "'d", "'ve"); add(orth, 'd', 've');
    }
  }

  // Verbs
  for (const verb of ['ca', 'could', 'do', 'does', 'did', 'had', 'may', 'might', 'must', 'need', 'ought', 'sha', 'should', 'wo', 'would']) {
    for (const orth of [verb, title(verb)]) {
      add(orth, "n't"); add(orth, 'nt'); add(orth, "n't", "'ve"); add(orth, 'nt', 've');
    }
  }
  for (const verb of ['could', 'might', 'must', 'should', 'would']) {
    for (const orth of [verb, title(verb)]) { add(orth, "'ve"); add(orth, 've'); }
  }
  for (const verb of ['ai', 'are', 'is', 'was', 'were', 'have', 'has', 'dare']) {
    for (const orth of [verb, title(verb)]) { add(orth, "n't"); add(orth, 'nt'); }
  }

  // Other contractions with trailing apostrophe
  for (const word of ['doin', 'goin', 'nothin', 'nuthin', 'ol', 'somethin']) {
    for (const orth of [word, title(word)]) { add(orth); add(`${orth}'`); }
  }

  // Other contractions with leading apostrophe
  for (const word of ['cause', 'em', 'll', 'nuff']) { add(word); add(`'${word}`); }

  // Times
  for (let h = 1; h <= 12; h++) {
    for (const period of ['a.m.', 'am', 'p.m.', 'pm']) add(String(h), period);
  }

  // Rest
  add("y'", 'all'); add('y', 'all');
  add('how', "'d", "'y"); add('How', "'d", "'y");
  add('not', "'ve"); add('not', 've'); add('Not', "'ve"); add('Not', 've');
  add('can', 'not'); add('Can', 'not');
  add('gon', 'na'); add('Gon', 'na');
  add('got', 'ta'); add('Got', 'ta');
  add('let', "'s"); add('Let', "'s");

  for (const orth of [
    "'S", "'s", '\u2018S', '\u2018s', 'and/or', 'w/o', "'re", "'Cause", "'cause", "'cos", "'Cos", "'coz", "'Coz",
    "'cuz", "'Cuz", "'bout", "ma'am", "Ma'am", "o'clock", "O'clock",
    "lovin'", "Lovin'", 'lovin', 'Lovin', "havin'", "Havin'", 'havin', 'Havin',
    "doin'", "Doin'", 'doin', 'Doin', "goin'", "Goin'", 'goin', 'Goin',
    'Mt.', 'Ak.', 'Ala.', 'Apr.', 'Ariz.', 'Ark.', 'Aug.', 'Calif.', 'Colo.', 'Conn.', 'Dec.', 'Del.', 'Feb.',
    'Fla.', 'Ga.', 'Ia.', 'Id.', 'Ill.', 'Ind.', 'Jan.', 'Jul.', 'Jun.', 'Kan.', 'Kans.', 'Ky.', 'La.', 'Mar.',
    'Mass.', 'May.', 'Mich.', 'Minn.', 'Miss.', 'N.C.', 'N.D.', 'N.H.', 'N.J.', 'N.M.', 'N.Y.', 'Neb.', 'Nebr.',
    'Nev.', 'Nov.', 'Oct.', 'Okla.', 'Ore.', 'Pa.', 'S.C.', 'Sep.', 'Sept.', 'Tenn.', 'Va.', 'Wash.', 'Wis.',
    "'d", 'a.m.', 'Adm.', 'Bros.', 'co.', 'Co.', 'Corp.', 'D.C.', 'Dr.', 'e.g.', 'E.g.', 'E.G.', 'Gen.', 'Gov.',
    'i.e.', 'I.e.', 'I.E.', 'Inc.', 'Jr.', 'Ltd.', 'Md.', 'Messrs.', 'Mo.', 'Mont.', 'Mr.', 'Mrs.', 'Ms.', 'p.m.',
    'Ph.D.', 'Rep.', 'Rev.', 'Sen.', 'St.', 'vs.',
  ]) add(orth);

  // Words that the loops above would wrongly split ("ill" is not "i" + "ll").
  for (const s of ['Ill', 'ill', 'Its', 'its', 'Hell', 'hell', 'Shell', 'shell', 'Shed', 'shed', 'were', 'Were', 'Well', 'well', 'Whore', 'whore']) {
    exc.delete(s);
  }
  return exc;
}

/**
 * Every special case of spaCy 2's English tokenizer: key → piece texts.
 * (`update_exc(BASE_EXCEPTIONS, TOKENIZER_EXCEPTIONS)`: English entries win.)
 */
export const SPECIAL_CASES: ReadonlyMap<string, readonly string[]> = new Map([...baseExceptions(), ...englishExceptions()]);

/** Length (UTF-16 units) of the longest special case, to skip hopeless look-ups. */
export const MAX_SPECIAL_LENGTH = Math.max(...[...SPECIAL_CASES.keys()].map((k) => k.length));
