// tlcr/rlhf/ppo.hpp — PPO with dense token rewards: includes every part, each in its own header
// under tlcr/rlhf/ppo/:
//   config.hpp    PpoConfig, the TLCR and small-model presets, JSON
//   kl.hpp        k1 / k3 / full-vocabulary KL per token, entropy, the adaptive KL controller
//   gae.hpp       generalized advantage estimation, whitening
//   losses.hpp    clipped surrogate, clipped value loss, entropy (differentiable)
//   rollout.hpp   sampling; scoring with the models and any TokenRewardModel; reward shaping;
//                 the runtime checks
//   samples.hpp   per-token sample tables (data, JSON, terminal)
//   critic.hpp    make_critic: a separate critic from a trained trunk and a fresh value head
//   trainer.hpp   PpoTrainer / train_ppo: the loop, metrics, checkpoints, exact resume
// Not here: the reward models (rlhf/rewards.hpp, rlhf/sequence_reward.hpp), evaluation on the
// built-in task (rlhf/task/evaluate.hpp).
#pragma once

#include "tlcr/rlhf/ppo/config.hpp"
#include "tlcr/rlhf/ppo/critic.hpp"
#include "tlcr/rlhf/ppo/gae.hpp"
#include "tlcr/rlhf/ppo/kl.hpp"
#include "tlcr/rlhf/ppo/losses.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"
#include "tlcr/rlhf/ppo/samples.hpp"
#include "tlcr/rlhf/ppo/trainer.hpp"
