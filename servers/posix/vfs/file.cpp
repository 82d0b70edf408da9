// SPDX-License-Identifier: MIT
// Open files, descriptor tables and pipes.
#include "vfs/file.hpp"

#include <string.h>

#include "fs/tracefs.hpp"
#include "platform/kernel.hpp"
#include "task/process.hpp"
#include "tracing/trace_service.hpp"
#include "vfs/epoll.hpp"
#include "vfs/eventfd.hpp"
#include "vfs/linux_objects.hpp"

namespace posix {

using rt::err;

rt::Result<File*> new_file(FileKind kind, uint32_t flags, Inode* inode) {
  auto* file = static_cast<File*>(platform::heap().allocate(sizeof(File), alignof(File)));
  if (file == nullptr) return err(rt::kENOMEM);
  memset(file, 0, sizeof(File));
  file->references = 1;
  file->kind = kind;
  file->flags = flags;
  file->inode = inode;
  if (inode != nullptr) inode->holds++;
  init_linux_file(file);
  return file;
}

void get_file(File* file) { file->references++; }

void put_file(File* file) {
  if (file == nullptr || --file->references > 0) return;
  epoll_release(file);
  if (file->kind == FileKind::kTracefs) tracefs_release(file);
  if (file->kind == FileKind::kTrace) close_trace_handle(file->trace_handle, file->trace_instance);
  if (file->kind == FileKind::kEventFd) eventfd_release(*file);
  if (file->pipe != nullptr) {
    Pipe* pipe = file->pipe;
    if (file->kind == FileKind::kPipeRead) pipe->readers--;
    if (file->kind == FileKind::kPipeWrite || fifo_read_write(*file)) pipe->writers--;
    note_pipe_event();  // a blocked reader sees the end, a blocked writer EPIPE
    if (pipe->readers == 0 && pipe->writers == 0) {
      if (pipe->fifo != nullptr) pipe->fifo->fifo = nullptr;  // the next open makes a new one
      platform::heap().deallocate(pipe->buffer, Pipe::kCapacity);
      platform::heap().deallocate(pipe, sizeof(Pipe));
    }
  }
  Inode* inode = file->inode;
  platform::heap().deallocate(file, sizeof(File));
  if (inode != nullptr) {
    inode->holds--;
    file_tree().forget_if_unused(inode);  // an unlinked file's last close frees it
  }
}

rt::Result<FdTable*> new_fd_table() {
  auto* table = static_cast<FdTable*>(platform::heap().allocate(sizeof(FdTable), 16));
  if (table == nullptr) return err(rt::kENOMEM);
  table->references = 1;
  table->end = 0;  // the entries are cleared as they come into use (fd_table_reach)
  return table;
}

void fd_table_reach(FdTable& table, int fd) {
  for (; table.end <= fd; ++table.end) {
    table.files[table.end] = nullptr;
    table.close_on_exec[table.end] = false;
  }
}

rt::Result<FdTable*> copy_fd_table(const FdTable& from) {
  FdTable* table = TRY(new_fd_table());
  table->end = from.end;
  for (int fd = 0; fd < from.end; ++fd) {
    table->files[fd] = from.files[fd];
    table->close_on_exec[fd] = from.close_on_exec[fd];
    if (table->files[fd] != nullptr) get_file(table->files[fd]);
  }
  return table;
}

void put_fd_table(FdTable* table) {
  if (table == nullptr || --table->references > 0) return;
  for (int fd = 0; fd < table->end; ++fd) put_file(table->files[fd]);
  platform::heap().deallocate(table, sizeof(FdTable));
}

rt::Result<int> install_fd(FdTable& table, File* file, int minimum, bool close_on_exec) {
  int limit = nofile_limit();
  for (int fd = minimum < 0 ? 0 : minimum; fd < limit; ++fd) {
    if (fd >= table.end || table.files[fd] == nullptr) {
      fd_table_reach(table, fd);
      table.files[fd] = file;
      table.close_on_exec[fd] = close_on_exec;
      return fd;
    }
  }
  return err(rt::kEMFILE);
}

File* fd_file(const FdTable& table, int fd) {
  if (fd < 0 || fd >= table.end) return nullptr;
  return table.files[fd];
}

rt::Result<void> close_fd(FdTable& table, int fd) {
  File* file = fd_file(table, fd);
  if (file == nullptr) return err(rt::kEBADF);
  table.files[fd] = nullptr;
  table.close_on_exec[fd] = false;
  put_file(file);
  return {};
}

void close_on_exec(FdTable& table) {
  for (int fd = 0; fd < table.end; ++fd) {
    if (table.files[fd] != nullptr && table.close_on_exec[fd]) (void)close_fd(table, fd);
  }
}

rt::Result<void> make_pipe(File*& read_end, File*& write_end, uint32_t flags) {
  auto* pipe = static_cast<Pipe*>(platform::heap().allocate(sizeof(Pipe), alignof(Pipe)));
  if (pipe == nullptr) return err(rt::kENOMEM);
  memset(pipe, 0, sizeof(Pipe));
  pipe->buffer = static_cast<uint8_t*>(platform::heap().allocate(Pipe::kCapacity, 16));
  if (pipe->buffer == nullptr) return err(rt::kENOMEM);
  pipe->readers = 1;
  pipe->writers = 1;
  uint32_t status = flags & kO_NONBLOCK;
  read_end = TRY(new_file(FileKind::kPipeRead, kO_RDONLY | status, nullptr));
  write_end = TRY(new_file(FileKind::kPipeWrite, kO_WRONLY | status, nullptr));
  read_end->pipe = pipe;
  write_end->pipe = pipe;
  return {};
}

}  // namespace posix
