// tlcr/rlhf/task/revision.hpp — the built-in task's reviser (reviser.hpp) as a Reviser for
// on-policy revision rounds (rlhf/revision_rounds.hpp): `tlcr ppo --reviser builtin`.
//
// A policy sample has no chosen response beside it, so the reviser gets an empty one and takes
// the wording of any fact it inserts from its first template. It knows the oracle's reasons, so
// every revision reaches the prompt's best score; a response that already does comes back as is.
// Not here: the rounds themselves, the reviser's rules (reviser.hpp).
#pragma once

#include <string>
#include <vector>

#include "tlcr/rlhf/revision_rounds.hpp"
#include "tlcr/rlhf/task/reviser.hpp"

namespace tlcr {

// Throws, naming the prompt, when a request's prompt is not one of the task's.
inline Reviser task_reviser(const task::TaskWorld& world = task::task_world()) {
  return {"builtin", [&world](const std::vector<RevisionRequest>& requests) {
            std::vector<std::string> revised;
            for (const RevisionRequest& r : requests) {
              TLCR_CHECK(world.has_prompt(r.prompt), "builtin reviser: the prompt '",
                         r.prompt.substr(0, 60), "' is not one of the built-in task's");
              revised.push_back(task::revise(world, r.prompt, "", r.response));
            }
            return revised;
          }};
}

}  // namespace tlcr
