// SPDX-License-Identifier: MIT
// ObjectTable: ids per kind (Linux's cyclic idr) and the lifetime of maps, programs and BTF.
#include "ebpf/helpers.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/prog_array.hpp"
#include "rt/errno.hpp"
#include "rt/new.hpp"
#include "trace/links.hpp"
#include "trace/objects.hpp"
#include "trace/perf_events.hpp"
#include "verifier_log.hpp"

namespace trace {
namespace {

constexpr uint32_t kMaxId = 0x7fffffff;  // idr_alloc_cyclic(..., 1, INT_MAX)

}  // namespace

ObjectTable::ObjectTable(rt::Allocator& allocator, ebpf::Environment& environment)
    : allocator_(allocator), environment_(environment) {
  ebpf::fill_helper_table(helpers_);
}

ObjectTable::~ObjectTable() {
  if (kernel_btf_ != nullptr) release(kernel_btf_);
  for (IdList& list : lists_) {
    if (list.objects != nullptr)
      allocator_.deallocate(list.objects, list.capacity * sizeof(Object*));
  }
}

rt::Result<void> ObjectTable::add_kernel_btf(const uint8_t* data, uint32_t size) {
  // Any BTF added before, even one freed since, has taken id 1.
  if (kernel_btf_ != nullptr || lists_[static_cast<uint32_t>(ObjectKind::kBtf)].next != 1)
    return rt::err(rt::kEBUSY, "the kernel's BTF comes before any other BTF object");
  void* memory = allocator_.allocate(sizeof(BtfObject), alignof(BtfObject));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  auto* object = new (memory) BtfObject();
  object->kind = ObjectKind::kBtf;
  object->kernel_btf = true;
  object->name = "vmlinux";
  uint8_t* copy = nullptr;
  rt::Result<void> added;
  if (size != 0) {
    copy = static_cast<uint8_t*>(allocator_.allocate(size, 8));
    if (copy == nullptr) added = rt::err(rt::kENOMEM);
    for (uint32_t i = 0; copy != nullptr && i < size; ++i) copy[i] = data[i];
  }
  // btf_parse_vmlinux logs to the kernel's console; the errno is enough here.
  VerifierLog log;
  if (added.ok()) added = object->btf.parse(allocator_, copy, size, log);
  if (added.ok()) added = add(object);
  if (!added.ok()) {
    object->btf.destroy(allocator_);  // the copy too: the Btf owns it once parse has it
    object->~BtfObject();
    allocator_.deallocate(object, sizeof(BtfObject));
    return added.error();
  }
  kernel_btf_ = object;
  return {};
}

uint32_t ObjectTable::position(const IdList& list, uint32_t id) const {
  uint32_t low = 0, high = list.count;
  while (low < high) {
    uint32_t middle = low + (high - low) / 2;
    if (list.objects[middle]->id < id) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

rt::Result<void> ObjectTable::add(Object* object) {
  IdList& list = lists_[static_cast<uint32_t>(object->kind)];
  if (list.count == list.capacity) {
    uint32_t capacity = list.capacity == 0 ? 16 : list.capacity * 2;
    auto* grown =
        static_cast<Object**>(allocator_.allocate(capacity * sizeof(Object*), alignof(Object*)));
    if (grown == nullptr) return rt::err(rt::kENOSPC, "no memory for another object id");
    for (uint32_t i = 0; i < list.count; ++i) grown[i] = list.objects[i];
    if (list.objects != nullptr)
      allocator_.deallocate(list.objects, list.capacity * sizeof(Object*));
    list.objects = grown;
    list.capacity = capacity;
  }
  if (list.count >= kMaxId) return rt::err(rt::kENOSPC);
  // The first free id at or after `next`, wrapping to 1 after INT_MAX.
  uint32_t id = list.next;
  uint32_t at = position(list, id);
  while (at < list.count && list.objects[at]->id == id) {
    ++at;
    if (id == kMaxId) {
      id = 1;
      at = position(list, id);
    } else {
      ++id;
    }
  }
  for (uint32_t i = list.count; i > at; --i) list.objects[i] = list.objects[i - 1];
  list.objects[at] = object;
  ++list.count;
  object->id = id;
  object->references = 1;
  list.next = id == kMaxId ? 1 : id + 1;
  return {};
}

Object* ObjectTable::find(ObjectKind kind, uint32_t id) const {
  const IdList& list = lists_[static_cast<uint32_t>(kind)];
  uint32_t at = position(list, id);
  return at < list.count && list.objects[at]->id == id ? list.objects[at] : nullptr;
}

rt::Result<uint32_t> ObjectTable::next_id(ObjectKind kind, uint32_t start) const {
  const IdList& list = lists_[static_cast<uint32_t>(kind)];
  if (start >= kMaxId) return rt::err(rt::kENOENT);
  uint32_t at = position(list, start + 1);
  if (at == list.count) return rt::err(rt::kENOENT);
  return list.objects[at]->id;
}

void ObjectTable::release(Object* object) {
  if (--object->references != 0) return;
  IdList& list = lists_[static_cast<uint32_t>(object->kind)];
  uint32_t at = position(list, object->id);
  if (at < list.count && list.objects[at] == object) {
    for (uint32_t i = at; i + 1 < list.count; ++i) list.objects[i] = list.objects[i + 1];
    --list.count;
  }
  destroy(object);
}

void ObjectTable::clear_program_array(MapObject* map) {
  if (map->map->type() == ebpf::MapType::kPerfEventArray) clear_perf_event_array(*this, map);
  if (map->map->type() != ebpf::MapType::kProgArray) return;
  auto* array = static_cast<ebpf::ProgArrayMap*>(map->map);
  for (uint32_t index = 0; index < array->attributes().max_entries; ++index) {
    uint32_t id = array->slots()[index].id;
    if (!array->clear(index).ok()) continue;  // already empty
    if (Object* program = find(ObjectKind::kProgram, id); program != nullptr) release(program);
  }
}

// __bpf_prog_run with bpf_stats_enabled_key on: the run's time and one more run.
uint64_t ObjectTable::run_with_stats(ProgramObject& program, void* context, const RunContext& run) {
  RunContext outer = environment_.run;
  environment_.run = run;
  uint64_t start = environment_.monotonic_ns();
  uint64_t result = ebpf::execute(program.program, context, &environment_);
  uint64_t end = environment_.monotonic_ns();
  program.run_time_ns += end > start ? end - start : 0;
  ++program.run_cnt;
  environment_.run = outer;
  return result;
}

uint64_t ObjectTable::run_on_cpu(ProgramObject& program, void* context, uint32_t cpu) {
  environment_.run_cpu = cpu;
  uint64_t result = run(program, context, RunContext{});
  environment_.run_cpu = TableEnvironment::kNoCpu;
  return result;
}

rt::Result<Object*> ObjectTable::enable_stats() {
  if (stats_users_ >= kMaxId) return rt::err(rt::kEBUSY);
  void* place = allocator_.allocate(sizeof(Object), alignof(Object));
  if (place == nullptr) return rt::err(rt::kENOMEM);
  auto* stats = new (place) Object();
  stats->kind = ObjectKind::kStats;
  if (auto added = add(stats); !added.ok()) {
    allocator_.deallocate(stats, sizeof(Object));
    return added.error();
  }
  ++stats_users_;
  return stats;
}

rt::Result<void> ObjectTable::set_stats_sysctl(int64_t value) {
  if (value < 0 || value > 1) return rt::err(rt::kEINVAL);
  if (value == stats_sysctl_) return {};
  if (value != 0) {
    ++stats_users_;
  } else {
    --stats_users_;
  }
  stats_sysctl_ = static_cast<int>(value);
  return {};
}

void ObjectTable::destroy(Object* object) {
  switch (object->kind) {
    case ObjectKind::kStats:
      --stats_users_;  // bpf_stats_release
      allocator_.deallocate(object, sizeof(Object));
      break;
    case ObjectKind::kMap: {
      auto* map = static_cast<MapObject*>(object);
      clear_program_array(map);
      ebpf::destroy_map(map->map, allocator_);
      if (map->btf != nullptr) release(map->btf);
      allocator_.deallocate(map, sizeof(MapObject));
      break;
    }
    case ObjectKind::kProgram: destroy_program(*this, static_cast<ProgramObject*>(object)); break;
    case ObjectKind::kBtf: {
      auto* btf = static_cast<BtfObject*>(object);
      btf->btf.destroy(allocator_);
      btf->~BtfObject();
      allocator_.deallocate(btf, sizeof(BtfObject));
      break;
    }
    case ObjectKind::kLink: destroy_link(*this, static_cast<LinkObject*>(object)); break;
    case ObjectKind::kPerfEvent:
      destroy_perf_event(*this, static_cast<PerfEventObject*>(object));
      break;
    default: break;
  }
}

void destroy_program(ObjectTable& table, ProgramObject* program) {
  rt::Allocator& allocator = table.allocator();
  for (uint32_t i = 0; i < program->used_map_count; ++i) table.release(program->used_maps[i]);
  if (program->used_maps != nullptr) {
    allocator.deallocate(program->used_maps, program->used_map_count * sizeof(MapObject*));
  }
  if (program->insns != nullptr)
    allocator.deallocate(program->insns, program->insn_count * sizeof(ebpf::Insn));
  if (program->xlated != nullptr)
    allocator.deallocate(program->xlated, program->insn_count * sizeof(ebpf::Insn));
  if (program->func_info != nullptr)
    allocator.deallocate(program->func_info, program->func_info_count * sizeof(FuncInfo));
  if (program->line_info != nullptr)
    allocator.deallocate(program->line_info, program->line_info_count * sizeof(LineInfo));
  if (program->btf != nullptr) table.release(program->btf);
  program->~ProgramObject();
  allocator.deallocate(program, sizeof(ProgramObject));
}

}  // namespace trace
