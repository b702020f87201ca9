#!/usr/bin/env python3
"""Builds vocabulary-only GGUF files from mistral-common's bundled tokenizers and records
mistral-common's ids for the test corpus.

    ~/.cache/brise/venv/bin/python scripts/make-tokenizer-fixtures.py            # vocab GGUFs + fixtures
    ~/.cache/brise/venv/bin/python scripts/make-tokenizer-fixtures.py --vocabs-only

Needs `mistral-common` and `sentencepiece` in the venv (scripts/setup installs them).

Vocabularies go OUTSIDE the repository (they are megabytes), to $BRISE_TOKENIZER_CACHE or
~/.cache/brise/tokenizers, written the way llama.cpp's converter writes them
(conversion/base.py `_set_vocab_mistral` with gguf-py's `MistralVocab`):

    mistral-tekken-240718.gguf   tekken_240718.json         gpt2 / tekken, chat template "mistral-v3-tekken"
    mistral-spm-v3.gguf          ..._240323.model.v3        llama (SentencePiece), "mistral-v3"
    mistral-spm-v7.gguf          ..._241114.model.v7        llama, "mistral-v7"
    mistral-spm-v1.gguf          tokenizer.model.v1         llama, "mistral-v1"
    mistral-tekken-240718-v13-synthetic.gguf
                                 the Tekken file with ids 20-23 renamed [ARGS], [CALL_ID], [THINK],
                                 [/THINK]: the synthetic vocabulary of the shared v11/v13 chat
                                 references (no v11/v13 Tekken file ships in the wheel)

Committed fixtures (Fixtures/tokenization/):

    corpus.json                  the corpus texts (scripts/tokenizer_corpus.py), with their categories
    mistral-common-ids.json      mistral-common's ids (no BOS) for every corpus text, Tekken and SPM v3
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import gguf
from gguf.vocab import MistralVocab, MistralTokenizerType

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tokenizer_corpus  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures" / "tokenization"


def data_dir() -> Path:
    import mistral_common

    return Path(mistral_common.__file__).resolve().parent / "data"


SYNTHETIC_V13 = {20: "[ARGS]", 21: "[CALL_ID]", 22: "[THINK]", 23: "[/THINK]"}

VOCABS = [
    ("mistral-tekken-240718.gguf", "tekken_240718.json", "mistral-v3-tekken"),
    ("mistral-tekken-240718-v13-synthetic.gguf", "tekken_240718.json", "[SYSTEM_PROMPT] [ARGS] (synthetic)"),
    ("mistral-spm-v3.gguf", "mistral_instruct_tokenizer_240323.model.v3", "mistral-v3"),
    ("mistral-spm-v7.gguf", "mistral_instruct_tokenizer_241114.model.v7", "mistral-v7"),
    ("mistral-spm-v1.gguf", "tokenizer.model.v1", "mistral-v1"),
]


def cache_dir() -> Path:
    path = os.environ.get("BRISE_TOKENIZER_CACHE") or str(Path.home() / ".cache" / "brise" / "tokenizers")
    return Path(path)


def load_vocab(source: Path) -> MistralVocab:
    # MistralVocab looks for a tokenizer file in a directory; give it one holding only ours.
    tmp = Path(tempfile.mkdtemp(prefix="brise-vocab-"))
    # (a Tekken file must be called tekken.json to be recognised).
    (tmp / ("tekken.json" if source.suffix == ".json" else source.name)).symlink_to(source)
    return MistralVocab(tmp)


def write_vocab(out: Path, source: Path, template: str, renames=None) -> None:
    vocab = load_vocab(source)
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(f"brise tokenizer fixture ({source.name})")
    writer.add_tokenizer_model(vocab.gguf_tokenizer_model)
    tokens, scores, types = [], [], []
    for text, score, toktype in vocab.all_tokens():
        tokens.append(text)
        scores.append(score)
        types.append(toktype)
    assert len(tokens) == vocab.vocab_size
    for index, text in (renames or {}).items():
        tokens[index] = text.encode("utf-8")
    if vocab.tokenizer_type == MistralTokenizerType.tekken:
        writer.add_tokenizer_pre("tekken")
        writer.add_token_merges(vocab.extract_vocab_merges_from_model())
    writer.add_bos_token_id(vocab.bos_id)
    writer.add_eos_token_id(vocab.eos_id)
    writer.add_unk_token_id(vocab.unk_id)
    writer.add_pad_token_id(vocab.pad_id)
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_vocab_size(vocab.vocab_size)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(template)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def mistral_tokenizer(source: Path):
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    return MistralTokenizer.from_file(str(source)).instruct_tokenizer.tokenizer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocabs-only", action="store_true", help="only (re)write the vocabulary GGUFs")
    parser.add_argument("--if-missing", action="store_true", help="skip vocabularies that already exist")
    args = parser.parse_args()

    data = data_dir()
    out_dir = cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, source, template in VOCABS:
        out = out_dir / name
        if args.if_missing and out.exists():
            continue
        tmp = out.with_suffix(".tmp")
        write_vocab(tmp, data / source, template, SYNTHETIC_V13 if "synthetic" in name else None)
        tmp.rename(out)
        print(f"wrote {out} ({out.stat().st_size} bytes)")
    if args.vocabs_only:
        return 0

    corpus = tokenizer_corpus.corpus()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with open(FIXTURES / "corpus.json", "w", encoding="utf-8") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps({"category": c, "text": t}, ensure_ascii=True) for c, t in corpus))
        f.write("\n]\n")

    tekken = mistral_tokenizer(data / "tekken_240718.json")
    spm = mistral_tokenizer(data / "mistral_instruct_tokenizer_240323.model.v3")
    rows = []
    for _, text in corpus:
        rows.append({"tekken_240718": tekken.encode(text, bos=False, eos=False),
                     "spm_v3": spm.encode(text, bos=False, eos=False)})
    with open(FIXTURES / "mistral-common-ids.json", "w", encoding="utf-8") as f:
        import mistral_common

        f.write('{"generator": "scripts/make-tokenizer-fixtures.py", "mistral_common": "%s",\n'
                % mistral_common.__version__)
        f.write(' "note": "ids without BOS, one row per corpus.json entry, same order",\n "rows": [\n')
        f.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in rows))
        f.write("\n]}\n")
    print(f"wrote {FIXTURES / 'corpus.json'} and mistral-common-ids.json ({len(rows)} strings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
