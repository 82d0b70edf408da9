// SPDX-License-Identifier: MIT
// epoll instances (Linux's struct eventpoll): interest lists, readiness and their lifetime.
#pragma once

#include "vfs/file.hpp"

namespace posix {

struct EventPoll;

// poll(2) events of an epoll file: POLLIN while a member would be reported.
int epoll_poll(File* file);
// The last reference to `file` went: it leaves every interest list, and an epoll file's own
// instance is freed.
void epoll_release(File* file);

}  // namespace posix
