"""Hugging Face model families built from small configs (random weights, nothing downloaded), each with the
input specs it is exported on: token ids (int64, batch and sequence generic), images (batch, height and width
generic where the model allows), audio features. The families issue 15 names; the README's support table is
measured on them (tests/models/test_hugging_face_families.py)."""
from __future__ import annotations

import torch
import transformers as T

from torch_models import randomise

VOCAB = 100
TEXT = ["input_ids:int64[N,T=9]"]
SEQ2SEQ = ["input_ids:int64[N,T=9]", "decoder_input_ids:int64[N,S=5]"]
H = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
DECODER = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2)


def image(size: int = 32, channels: int = 3) -> list[str]:
    """Images whose height and width stay generic where the model allows (``?``): a ViT's position table fixes
    them."""
    return [f"pixel_values:float32[N,{channels},?={size},?={size}]"]


FAMILIES = {
    "bert": (lambda: T.BertModel(T.BertConfig(vocab_size=VOCAB, max_position_embeddings=64, **H)), TEXT),
    "roberta": (lambda: T.RobertaModel(T.RobertaConfig(vocab_size=VOCAB, max_position_embeddings=64, **H)), TEXT),
    "xlm-roberta": (lambda: T.XLMRobertaModel(T.XLMRobertaConfig(vocab_size=VOCAB, max_position_embeddings=64,
                                                                  **H)), TEXT),
    "distilbert": (lambda: T.DistilBertModel(T.DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=2, n_heads=4,
                                                                 hidden_dim=64, max_position_embeddings=64)), TEXT),
    "albert": (lambda: T.AlbertModel(T.AlbertConfig(vocab_size=VOCAB, embedding_size=16, max_position_embeddings=64,
                                                     **H)), TEXT),
    "deberta-v2": (lambda: T.DebertaV2Model(T.DebertaV2Config(vocab_size=VOCAB, max_position_embeddings=64, **H)),
                   TEXT),
    "gpt2": (lambda: T.GPT2Model(T.GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                              bos_token_id=0, eos_token_id=0)), TEXT),
    "opt": (lambda: T.OPTModel(T.OPTConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, ffn_dim=64,
                                           num_attention_heads=4, max_position_embeddings=64,
                                           word_embed_proj_dim=32)), TEXT),
    "bloom": (lambda: T.BloomModel(T.BloomConfig(vocab_size=VOCAB, hidden_size=32, n_layer=2, n_head=4)), TEXT),
    "gpt-j": (lambda: T.GPTJModel(T.GPTJConfig(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                               rotary_dim=4, bos_token_id=0, eos_token_id=0)), TEXT),
    "llama": (lambda: T.LlamaModel(T.LlamaConfig(max_position_embeddings=128, **DECODER)), TEXT),
    "qwen2": (lambda: T.Qwen2Model(T.Qwen2Config(**DECODER)), TEXT),
    "qwen3": (lambda: T.Qwen3Model(T.Qwen3Config(head_dim=8, **DECODER)), TEXT),
    "mistral": (lambda: T.MistralModel(T.MistralConfig(**DECODER)), TEXT),
    "mixtral": (lambda: T.MixtralModel(T.MixtralConfig(num_local_experts=4, num_experts_per_tok=2, **DECODER)), TEXT),
    "phi": (lambda: T.PhiModel(T.PhiConfig(vocab_size=VOCAB, **H)), TEXT),
    "gemma": (lambda: T.GemmaModel(T.GemmaConfig(head_dim=8, **DECODER)), TEXT),
    "gemma2": (lambda: T.Gemma2Model(T.Gemma2Config(head_dim=8, **DECODER)), TEXT),
    "falcon": (lambda: T.FalconModel(T.FalconConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                                                    num_attention_heads=4)), TEXT),
    "t5": (lambda: T.T5Model(T.T5Config(vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)),
           SEQ2SEQ),
    "bart": (lambda: T.BartModel(T.BartConfig(vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=2,
                                              encoder_attention_heads=4, decoder_attention_heads=4,
                                              encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64)),
             SEQ2SEQ),
    "vit": (lambda: T.ViTModel(T.ViTConfig(image_size=32, patch_size=8, **H)), image()),
    "swin": (lambda: T.SwinModel(T.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[2, 2],
                                              num_heads=[2, 4], window_size=4)), image()),
    "convnext": (lambda: T.ConvNextModel(T.ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1], num_stages=2)),
                 image()),
    "resnet": (lambda: T.ResNetModel(T.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1])),
               image()),
    "mobilenet-v2": (lambda: T.MobileNetV2Model(T.MobileNetV2Config(depth_multiplier=0.35)), image()),
    "mobilevit": (lambda: T.MobileViTModel(T.MobileViTConfig(image_size=64, hidden_sizes=[16, 24, 32],
                                                             neck_hidden_sizes=[8, 8, 16, 16, 24, 24, 32])),
                  image(64)),
    "levit": (lambda: T.LevitModel(T.LevitConfig(image_size=64, hidden_sizes=[16, 24, 32],
                                                 num_attention_heads=[1, 2, 2], depths=[1, 1, 1],
                                                 key_dim=[8, 8, 8])), image(64)),
    "clip-text": (lambda: T.CLIPTextModel(T.CLIPTextConfig(vocab_size=VOCAB, max_position_embeddings=64, **H)), TEXT),
    "clip-vision": (lambda: T.CLIPVisionModel(T.CLIPVisionConfig(image_size=32, patch_size=8, **H)), image()),
    "whisper-encoder": (lambda: T.WhisperModel(T.WhisperConfig(
        vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16, max_source_positions=32,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)).get_encoder(),
        ["input_features:float32[N,16,64]"]),
    "wav2vec2": (lambda: T.Wav2Vec2Model(T.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, conv_dim=(16, 16),
        conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)),
        ["input_values:float32[N,L=400]"]),
}


def make(name: str) -> tuple[torch.nn.Module, list[str]]:
    """The family's model with seeded random weights (norm scales, biases and statistics randomised too), and
    its input specs."""
    factory, specs = FAMILIES[name]
    torch.manual_seed(0)
    return randomise(factory()), specs
