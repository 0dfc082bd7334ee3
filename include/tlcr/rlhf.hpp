// tlcr/rlhf.hpp — the rlhf/ layer in one include: the method — edit labels, the discriminator,
// reward models, PPO. The built-in task (tlcr/rlhf/task.hpp: the toy world, its oracle and reviser,
// the demo's experiment) is an application of the method, not part of it: include it where you
// use it. Leaving it out of this umbrella (and so of tlcr/tlcr.hpp) saves every program that does
// not use it about 1.5 s of compile time.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/rlhf/any_reward.hpp"
#include "tlcr/rlhf/discriminator.hpp"
#include "tlcr/rlhf/dpo.hpp"
#include "tlcr/rlhf/dpo_reward.hpp"
#include "tlcr/rlhf/edit_labels.hpp"
#include "tlcr/rlhf/evaluate.hpp"
#include "tlcr/rlhf/external_scorer.hpp"
#include "tlcr/rlhf/labels.hpp"
#include "tlcr/rlhf/ppo.hpp"
#include "tlcr/rlhf/records.hpp"
#include "tlcr/rlhf/reward_data.hpp"
#include "tlcr/rlhf/revision_rounds.hpp"
#include "tlcr/rlhf/reward_view.hpp"
#include "tlcr/rlhf/rewards.hpp"
#include "tlcr/rlhf/sequence_reward.hpp"
#include "tlcr/rlhf/spread_reward.hpp"
#include "tlcr/rlhf/token_reward.hpp"
