#!/usr/bin/env python3
"""Hugging Face parity: random GPT-2 and Llama (grouped-query) directories, written the way the
hub stores them, scored by `tlcr logprobs` and by an independent reference forward.

    hf_parity.py <tlcr executable> <scratch folder>

The directories hold what tlcr must take as it is: GPT-2 with "transformer." names, causal-mask
buffers and a tied head; Llama with 4 query heads sharing 2 key/value heads, an untied head,
rotary inv_freq buffers, and weights sharded over two files (model.safetensors.index.json), one of
them in bf16. Each has a Hugging Face byte-level tokenizer.json.

The reference is the forward pass of Hugging Face's modeling_gpt2.py and modeling_llama.py,
written out in plain Python with float64 arithmetic: it runs wherever Python 3 does. When PyTorch
and transformers are installed, the same directories are also loaded with
transformers.AutoModelForCausalLM and its log-probabilities compared too; without them that part
is reported as skipped. Exit status 0 when every log-probability agrees within 2e-4.
"""
import json
import math
import os
import random
import struct
import subprocess
import sys

TOLERANCE = 2e-4


# ---- files ------------------------------------------------------------------------------------

def bf16_exact(value):
    """The nearest value whose float32 bits end in 16 zero bits (stored exactly as bf16)."""
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFF0000))[0]


def write_safetensors(path, tensors, dtype="F32"):
    """tensors: list of (name, shape, flat values)."""
    header, body, offset = {}, b"", 0
    for name, shape, values in tensors:
        if dtype == "F32":
            raw = struct.pack("<%df" % len(values), *values)
        else:  # BF16: the upper half of each float32 (values are bf16-exact)
            raw = b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:]
                           for v in values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + body)


def byte_alphabet():
    """GPT-2's printable spelling of each byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def write_tokenizer(folder, vocab_size):
    alphabet = byte_alphabet()
    vocab = {alphabet[b]: b for b in range(256)}
    merges = []
    for word in ["he", "ll", "lo"][: vocab_size - 257]:
        vocab["".join(alphabet[ord(c)] for c in word)] = len(vocab)
        merges.append(" ".join(alphabet[ord(c)] for c in word))
    eos = len(vocab)
    tokenizer = {
        "version": "1.0",
        "added_tokens": [{"id": eos, "content": "<|endoftext|>", "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
        "model": {"type": "BPE", "vocab": vocab, "merges": merges},
    }
    with open(os.path.join(folder, "tokenizer.json"), "w") as out:
        json.dump(tokenizer, out)


# ---- random weights ---------------------------------------------------------------------------

def matrix(rng, rows, columns, scale=0.3):
    return [[rng.gauss(0.0, scale) for _ in range(columns)] for _ in range(rows)]


def vector(rng, n, mean=0.0, scale=0.1):
    return [mean + rng.gauss(0.0, scale) for _ in range(n)]


def flat(m):
    return [v for row in m for v in row] if m and isinstance(m[0], list) else list(m)


def shape(m):
    return [len(m), len(m[0])] if m and isinstance(m[0], list) else [len(m)]


def f32(m):
    """Round to float32 (what is stored) so both sides use the same weights."""
    if m and isinstance(m[0], list):
        return [f32(row) for row in m]
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in m]


# ---- reference forward (float64) --------------------------------------------------------------

def matvec_in_out(x, w):  # Conv1D: w (in, out)
    return [sum(x[i] * w[i][j] for i in range(len(x))) for j in range(len(w[0]))]


def matvec_out_in(x, w):  # Linear: w (out, in)
    return [sum(a * b for a, b in zip(row, x)) for row in w]


def layer_norm(x, weight, bias, eps):
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / len(x)
    return [(v - mean) / math.sqrt(var + eps) * w + b for v, w, b in zip(x, weight, bias)]


def rms_norm(x, weight, eps):
    scale = 1.0 / math.sqrt(sum(v * v for v in x) / len(x) + eps)
    return [v * scale * w for v, w in zip(x, weight)]


def gelu_new(x):
    return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + math.exp(-x))


def causal_attention(qs, ks, vs, heads, kv_heads, head_size):
    """qs: per position (H·D); ks, vs: per position (Hkv·D). Query head h uses kv head h // (H/Hkv)."""
    group = heads // kv_heads
    out = []
    for t, q in enumerate(qs):
        row = []
        for h in range(heads):
            g = h // group
            qh = q[h * head_size:(h + 1) * head_size]
            scores = [sum(a * b for a, b in zip(qh, ks[s][g * head_size:(g + 1) * head_size]))
                      / math.sqrt(head_size) for s in range(t + 1)]
            top = max(scores)
            weights = [math.exp(v - top) for v in scores]
            total = sum(weights)
            for d in range(head_size):
                row.append(sum(w * vs[s][g * head_size + d] for s, w in enumerate(weights)) / total)
        out.append(row)
    return out


def rope(x, position, heads, head_size, theta):
    out = list(x)
    half = head_size // 2
    for h in range(heads):
        base = h * head_size
        for i in range(half):
            angle = position * theta ** (-2.0 * i / head_size)
            c, s = math.cos(angle), math.sin(angle)
            a, b = x[base + i], x[base + i + half]
            out[base + i] = a * c - b * s
            out[base + i + half] = b * c + a * s
    return out


def log_probs(logits_per_position, tokens):
    result = [0.0]
    for t in range(1, len(tokens)):
        logits = logits_per_position[t - 1]
        top = max(logits)
        norm = top + math.log(sum(math.exp(v - top) for v in logits))
        result.append(logits[tokens[t]] - norm)
    return result


def gpt2_forward(w, c, tokens):
    hs = [[a + b for a, b in zip(w["wte.weight"][tok], w["wpe.weight"][t])] for t, tok in enumerate(tokens)]
    width, heads = c["n_embd"], c["n_head"]
    for layer in range(c["n_layer"]):
        p = "h.%d." % layer
        normed = [layer_norm(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], 1e-5) for h in hs]
        qkv = [[v + b for v, b in zip(matvec_in_out(x, w[p + "attn.c_attn.weight"]), w[p + "attn.c_attn.bias"])]
               for x in normed]
        attended = causal_attention([r[:width] for r in qkv], [r[width:2 * width] for r in qkv],
                                    [r[2 * width:] for r in qkv], heads, heads, width // heads)
        for t, a in enumerate(attended):
            projected = matvec_in_out(a, w[p + "attn.c_proj.weight"])
            hs[t] = [h + v + b for h, v, b in zip(hs[t], projected, w[p + "attn.c_proj.bias"])]
        for t in range(len(hs)):
            x = layer_norm(hs[t], w[p + "ln_2.weight"], w[p + "ln_2.bias"], 1e-5)
            hidden = [gelu_new(v + b) for v, b in zip(matvec_in_out(x, w[p + "mlp.c_fc.weight"]), w[p + "mlp.c_fc.bias"])]
            down = matvec_in_out(hidden, w[p + "mlp.c_proj.weight"])
            hs[t] = [h + v + b for h, v, b in zip(hs[t], down, w[p + "mlp.c_proj.bias"])]
    final = [layer_norm(h, w["ln_f.weight"], w["ln_f.bias"], 1e-5) for h in hs]
    return log_probs([matvec_out_in(h, w["wte.weight"]) for h in final], tokens)


def llama_forward(w, c, tokens):
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    head_size = c["hidden_size"] // heads
    eps, theta = c["rms_norm_eps"], c["rope_theta"]
    hs = [list(w["model.embed_tokens.weight"][tok]) for tok in tokens]
    for layer in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        normed = [rms_norm(h, w[p + "input_layernorm.weight"], eps) for h in hs]
        qs = [rope(matvec_out_in(x, w[p + "self_attn.q_proj.weight"]), t, heads, head_size, theta) for t, x in enumerate(normed)]
        ks = [rope(matvec_out_in(x, w[p + "self_attn.k_proj.weight"]), t, kv_heads, head_size, theta) for t, x in enumerate(normed)]
        vs = [matvec_out_in(x, w[p + "self_attn.v_proj.weight"]) for x in normed]
        attended = causal_attention(qs, ks, vs, heads, kv_heads, head_size)
        for t, a in enumerate(attended):
            hs[t] = [h + v for h, v in zip(hs[t], matvec_out_in(a, w[p + "self_attn.o_proj.weight"]))]
        for t in range(len(hs)):
            x = rms_norm(hs[t], w[p + "post_attention_layernorm.weight"], eps)
            gate = matvec_out_in(x, w[p + "mlp.gate_proj.weight"])
            up = matvec_out_in(x, w[p + "mlp.up_proj.weight"])
            hidden = [silu(g) * u for g, u in zip(gate, up)]
            hs[t] = [h + v for h, v in zip(hs[t], matvec_out_in(hidden, w[p + "mlp.down_proj.weight"]))]
    final = [rms_norm(h, w["model.norm.weight"], eps) for h in hs]
    return log_probs([matvec_out_in(h, w["lm_head.weight"]) for h in final], tokens)


# ---- the two directories ----------------------------------------------------------------------

def make_gpt2(folder, rng):
    c = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 260,
         "n_positions": 16, "n_ctx": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "n_inner": None,
         "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True,
         "eos_token_id": 259}
    width = c["n_embd"]
    w = {"wte.weight": matrix(rng, 260, width), "wpe.weight": matrix(rng, 16, width, 0.1),
         "ln_f.weight": vector(rng, width, 1.0), "ln_f.bias": vector(rng, width)}
    for layer in range(2):
        p = "h.%d." % layer
        w.update({p + "ln_1.weight": vector(rng, width, 1.0), p + "ln_1.bias": vector(rng, width),
                  p + "attn.c_attn.weight": matrix(rng, width, 3 * width), p + "attn.c_attn.bias": vector(rng, 3 * width),
                  p + "attn.c_proj.weight": matrix(rng, width, width), p + "attn.c_proj.bias": vector(rng, width),
                  p + "ln_2.weight": vector(rng, width, 1.0), p + "ln_2.bias": vector(rng, width),
                  p + "mlp.c_fc.weight": matrix(rng, width, 4 * width), p + "mlp.c_fc.bias": vector(rng, 4 * width),
                  p + "mlp.c_proj.weight": matrix(rng, 4 * width, width), p + "mlp.c_proj.bias": vector(rng, width)})
    w = {name: f32(m) for name, m in w.items()}
    tensors = [("transformer." + name, shape(m), flat(m)) for name, m in w.items()]
    for layer in range(2):  # the causal-mask buffers transformers saves with GPT-2
        tensors.append(("transformer.h.%d.attn.bias" % layer, [1, 1, 16, 16], [1.0] * 256))
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    with open(os.path.join(folder, "config.json"), "w") as out:
        json.dump(c, out)
    write_tokenizer(folder, 260)
    return w, c


def make_llama(folder, rng):
    c = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 260,
         "max_position_embeddings": 32, "hidden_size": 16, "intermediate_size": 24,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
         "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
         "tie_word_embeddings": False, "rope_scaling": None, "attention_bias": False,
         "eos_token_id": 259}
    width, kv_width, hidden = 16, 16 // 4 * 2, 24
    w = {"model.embed_tokens.weight": matrix(rng, 260, width), "model.norm.weight": vector(rng, width, 1.0),
         "lm_head.weight": matrix(rng, 260, width)}
    for layer in range(2):
        p = "model.layers.%d." % layer
        w.update({p + "input_layernorm.weight": vector(rng, width, 1.0),
                  p + "self_attn.q_proj.weight": matrix(rng, width, width),
                  p + "self_attn.k_proj.weight": matrix(rng, kv_width, width),
                  p + "self_attn.v_proj.weight": matrix(rng, kv_width, width),
                  p + "self_attn.o_proj.weight": matrix(rng, width, width),
                  p + "post_attention_layernorm.weight": vector(rng, width, 1.0),
                  p + "mlp.gate_proj.weight": matrix(rng, hidden, width),
                  p + "mlp.up_proj.weight": matrix(rng, hidden, width),
                  p + "mlp.down_proj.weight": matrix(rng, width, hidden)})
    # Shard 1 (bf16): the embedding and layer 0; shard 2 (f32): the rest, with inv_freq buffers.
    first = [n for n in w if n == "model.embed_tokens.weight" or n.startswith("model.layers.0.")]
    for name in first:
        w[name] = [[bf16_exact(v) for v in row] for row in w[name]] if isinstance(w[name][0], list) \
            else [bf16_exact(v) for v in w[name]]
    w = {name: f32(m) for name, m in w.items()}
    os.makedirs(folder, exist_ok=True)
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    write_safetensors(os.path.join(folder, shards[0]), [(n, shape(w[n]), flat(w[n])) for n in first], "BF16")
    rest = [(n, shape(m), flat(m)) for n, m in w.items() if n not in first]
    for layer in range(2):
        inv_freq = [10000.0 ** (-2.0 * i / 4) for i in range(2)]
        rest.append(("model.layers.%d.self_attn.rotary_emb.inv_freq" % layer, [2], f32(inv_freq)))
    write_safetensors(os.path.join(folder, shards[1]), rest)
    weight_map = {n: shards[0] if n in first else shards[1] for n in w}
    for layer in range(2):
        weight_map["model.layers.%d.self_attn.rotary_emb.inv_freq" % layer] = shards[1]
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as out:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, out)
    with open(os.path.join(folder, "config.json"), "w") as out:
        json.dump(c, out)
    write_tokenizer(folder, 260)
    return w, c


# ---- the comparison ---------------------------------------------------------------------------

def tlcr_log_probs(tlcr, folder, sequences, scratch):
    data, out = os.path.join(scratch, "tokens.jsonl"), os.path.join(scratch, "scored.jsonl")
    with open(data, "w") as f:
        for tokens in sequences:
            f.write(json.dumps({"tokens": tokens}) + "\n")
    subprocess.run([tlcr, "logprobs", "--model", folder, "--data", data, "--out", out], check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        return [json.loads(line)["logprobs"] for line in f if line.strip()]


def transformers_log_probs(folder, sequences):
    """Log-probs from transformers, or None when PyTorch / transformers are not installed."""
    try:
        import torch
        from transformers import AutoModelForCausalLM
    except ImportError:
        return None
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float64).eval()
    results = []
    with torch.no_grad():
        for tokens in sequences:
            logits = model(torch.tensor([tokens])).logits[0]
            logp = torch.log_softmax(logits, dim=-1)
            results.append([0.0] + [logp[t - 1, tokens[t]].item() for t in range(1, len(tokens))])
    return results


def compare(label, expected, actual):
    worst = max(abs(a - b) for e_row, a_row in zip(expected, actual) for b, a in zip(e_row, a_row))
    same_shape = [len(r) for r in expected] == [len(r) for r in actual]
    ok = same_shape and worst <= TOLERANCE
    print("%s: max |Δ log p| = %.2e over %d sequences (%s)" % (label, worst, len(expected), "ok" if ok else "FAILED"))
    return ok


def main():
    tlcr, scratch = sys.argv[1], sys.argv[2]
    os.makedirs(scratch, exist_ok=True)
    rng = random.Random(2024)
    sequences = [[rng.randrange(260) for _ in range(n)] for n in (1, 2, 7, 12)]
    ok = True
    have_transformers = True
    for name, make, forward in (("gpt2", make_gpt2, gpt2_forward), ("llama-gqa", make_llama, llama_forward)):
        folder = os.path.join(scratch, name)
        weights, config = make(folder, rng)
        reference = [forward(weights, config, tokens) for tokens in sequences]
        ours = tlcr_log_probs(tlcr, folder, sequences, scratch)
        ok &= compare(name + " tlcr vs reference forward", reference, ours)
        hub = transformers_log_probs(folder, sequences)
        if hub is None:
            have_transformers = False
        else:
            ok &= compare(name + " tlcr vs transformers", hub, ours)
    if not have_transformers:
        print("transformers comparison skipped: PyTorch and transformers are not installed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
