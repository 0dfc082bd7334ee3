// tlcr/text.hpp — the text/ layer in one include:
// byte-level BPE (training, encoding, GPT-2 and tiktoken files), the chat format.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/text/bpe.hpp"
#include "tlcr/text/bpe_train.hpp"
#include "tlcr/text/byte_alphabet.hpp"
#include "tlcr/text/chat.hpp"
#include "tlcr/text/hf_tokenizer_json.hpp"
#include "tlcr/text/json_describe.hpp"
#include "tlcr/text/openai_files.hpp"
#include "tlcr/text/pretokenizer.hpp"
#include "tlcr/text/show_controls.hpp"
#include "tlcr/text/tokenizer_json.hpp"
#include "tlcr/text/unicode.hpp"
