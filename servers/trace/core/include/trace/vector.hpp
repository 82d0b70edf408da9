// SPDX-License-Identifier: MIT
// Vector<T>: a growable array from an rt::Allocator, for freestanding code without std.
#pragma once

#include <stddef.h>

#include "rt/allocator.hpp"
#include "rt/new.hpp"

namespace trace {

// Elements move when the array grows or an element is erased; push_back reports a failed
// allocation instead of throwing.
template <typename T>
class Vector {
 public:
  explicit Vector(rt::Allocator& allocator) : allocator_(&allocator) {}
  ~Vector() {
    clear();
    if (items_ != nullptr) allocator_->deallocate(items_, capacity_ * sizeof(T));
  }
  Vector(Vector&& other)
      : allocator_(other.allocator_),
        items_(other.items_),
        size_(other.size_),
        capacity_(other.capacity_) {
    other.items_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  Vector(const Vector&) = delete;
  Vector& operator=(const Vector&) = delete;
  Vector& operator=(Vector&&) = delete;

  [[nodiscard]] bool push_back(T&& item) {
    if (size_ == capacity_ && !grow()) return false;
    new (&items_[size_]) T(static_cast<T&&>(item));
    ++size_;
    return true;
  }
  void erase(size_t index) {
    for (size_t i = index; i + 1 < size_; ++i) items_[i] = static_cast<T&&>(items_[i + 1]);
    items_[--size_].~T();
  }
  void clear() {
    while (size_ > 0) items_[--size_].~T();
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t index) { return items_[index]; }
  const T& operator[](size_t index) const { return items_[index]; }
  T& back() { return items_[size_ - 1]; }
  T* begin() { return items_; }
  T* end() { return items_ + size_; }
  const T* begin() const { return items_; }
  const T* end() const { return items_ + size_; }

 private:
  bool grow() {
    size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
    T* items = static_cast<T*>(allocator_->allocate(capacity * sizeof(T), alignof(T)));
    if (items == nullptr) return false;
    for (size_t i = 0; i < size_; ++i) {
      new (&items[i]) T(static_cast<T&&>(items_[i]));
      items_[i].~T();
    }
    if (items_ != nullptr) allocator_->deallocate(items_, capacity_ * sizeof(T));
    items_ = items;
    capacity_ = capacity;
    return true;
  }

  rt::Allocator* allocator_;
  T* items_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace trace
