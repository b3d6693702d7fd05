#pragma once
/// The secrets an instance needs that it can make itself on a single machine: the configured
/// value when there is one, else <data-dir>/<file>, created once with random bytes (hex) and
/// owner-only permissions. Instances that share a data dir share the file; instances on several
/// machines must be given the same value (flag or environment).

#include <string>

namespace joopang {

/// `bytes` random bytes when the file is created. `what` names the secret in logs and errors.
std::string ResolveSecret(const std::string& configured,
                          const std::string& data_dir,
                          const std::string& file,
                          std::size_t bytes,
                          const std::string& what);

}  // namespace joopang
