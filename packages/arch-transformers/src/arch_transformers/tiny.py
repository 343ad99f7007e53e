"""A tiny, randomly initialised BERT written to a folder: for trying the
architectures and for tests, with no download.

    from arch_transformers.tiny import write_tiny_bert
    write_tiny_bert("tiny-bert", words=["the", "cat", "##s"])
    # then: name = "tiny-bert" in a TransformerModel.v1 config
"""

import string
from pathlib import Path
from typing import Iterable, List, Union

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHARACTERS = string.ascii_letters + string.digits + string.punctuation


def tiny_vocab(words: Iterable[str] = ()) -> List[str]:
    """Special tokens, the given wordpieces (``##x`` continues a word), then every
    ASCII letter, digit and punctuation mark alone and as a continuation."""
    vocab = list(SPECIAL)
    seen = set(vocab)
    pieces = list(words) + list(CHARACTERS) + [f"##{c}" for c in CHARACTERS]
    for piece in pieces:
        if piece and piece not in seen and not any(c.isspace() for c in piece):
            vocab.append(piece)
            seen.add(piece)
    return vocab


def write_tiny_bert(
    path: Union[str, Path],
    words: Iterable[str] = (),
    *,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    max_length: int = 64,
    lowercase: bool = False,
    seed: int = 0,
) -> Path:
    """Write a tiny BERT (config, random weights, WordPiece vocab and fast
    tokenizer) to ``path``, loadable with AutoModel/AutoTokenizer.from_pretrained.

    path: The folder to write (created if needed).
    words: Wordpieces for the vocabulary besides the single characters.
    hidden_size: The width of the hidden states.
    layers: The number of transformer layers.
    heads: The number of attention heads (must divide hidden_size).
    max_length: The most wordpieces per row (position embeddings).
    lowercase: Whether the tokenizer lowercases (and strips accents).
    seed: The torch seed for the random weights.
    """
    import torch
    import transformers
    from transformers import BertConfig, BertModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab(words)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = transformers.BertTokenizerFast.from_pretrained(  # type: ignore[attr-defined]
        str(path), do_lower_case=lowercase, model_max_length=max_length
    )
    tokenizer.save_pretrained(str(path))
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 2,
        max_position_embeddings=max_length,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(str(path))
    return path
