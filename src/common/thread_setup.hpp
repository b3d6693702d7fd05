#pragma once
/// Names the calling thread (what `top -H` and `ps -L` show; Linux keeps 15 characters) and
/// lowers its CPU priority by `nice_steps` below the value it inherited (Linux nice values are
/// per thread). Background threads use it so the request path wins the CPU when both want it.

#include <string>

namespace joopang {

void SetUpThisThread(const std::string& name, int nice_steps = 0);

}  // namespace joopang
