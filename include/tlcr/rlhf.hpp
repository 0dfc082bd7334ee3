// tlcr/rlhf.hpp — the rlhf/ layer in one include:
// edit labels, the discriminator, reward models, PPO, and the built-in task.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/rlhf/any_reward.hpp"
#include "tlcr/rlhf/discriminator.hpp"
#include "tlcr/rlhf/edit_labels.hpp"
#include "tlcr/rlhf/labels.hpp"
#include "tlcr/rlhf/ppo.hpp"
#include "tlcr/rlhf/records.hpp"
#include "tlcr/rlhf/reward_data.hpp"
#include "tlcr/rlhf/reward_view.hpp"
#include "tlcr/rlhf/rewards.hpp"
#include "tlcr/rlhf/sequence_reward.hpp"
#include "tlcr/rlhf/task.hpp"
#include "tlcr/rlhf/task/evaluate.hpp"
#include "tlcr/rlhf/token_reward.hpp"
