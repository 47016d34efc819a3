// Minimal stand-in for ankerl::unordered_dense (github.com/martinus/unordered_dense)
// for building mediasoup offline. Same names as upstream (map, set, hash) but
// backed by std::unordered_map / std::unordered_set, so only the standard
// container API is offered (no values(), segmented containers' extras, ...).
#ifndef ANKERL_UNORDERED_DENSE_H
#define ANKERL_UNORDERED_DENSE_H

#define ANKERL_UNORDERED_DENSE_VERSION_MAJOR 4
#define ANKERL_UNORDERED_DENSE_VERSION_MINOR 8
#define ANKERL_UNORDERED_DENSE_VERSION_PATCH 1

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense {
inline namespace v4_8_1 {
namespace detail {
// 64x64->128 multiply and fold (the wyhash "mix" idea).
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
	const __uint128_t r = static_cast<__uint128_t>(a) * b;
	return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64U);
}
inline std::uint64_t hash_u64(std::uint64_t x) noexcept {
	return mix(x, UINT64_C(0x9E3779B97F4A7C15));
}
} // namespace detail

// Generic case: std::hash.
template <typename T, typename Enable = void>
struct hash {
	auto operator()(T const& obj) const
	    noexcept(noexcept(std::declval<std::hash<T>>().operator()(std::declval<T const&>())))
	        -> std::uint64_t {
		return static_cast<std::uint64_t>(std::hash<T>{}(obj));
	}
};

// Integers and enums.
template <typename T>
struct hash<T, typename std::enable_if<std::is_integral<T>::value || std::is_enum<T>::value>::type> {
	using is_avalanching = void;
	auto operator()(T const& obj) const noexcept -> std::uint64_t {
		return detail::hash_u64(static_cast<std::uint64_t>(obj));
	}
};

// Pointers and smart pointers.
template <typename T>
struct hash<T*> {
	using is_avalanching = void;
	auto operator()(T* ptr) const noexcept -> std::uint64_t {
		return detail::hash_u64(reinterpret_cast<std::uintptr_t>(ptr));
	}
};
template <typename T>
struct hash<std::unique_ptr<T>> {
	using is_avalanching = void;
	auto operator()(std::unique_ptr<T> const& ptr) const noexcept -> std::uint64_t {
		return detail::hash_u64(reinterpret_cast<std::uintptr_t>(ptr.get()));
	}
};
template <typename T>
struct hash<std::shared_ptr<T>> {
	using is_avalanching = void;
	auto operator()(std::shared_ptr<T> const& ptr) const noexcept -> std::uint64_t {
		return detail::hash_u64(reinterpret_cast<std::uintptr_t>(ptr.get()));
	}
};

// Strings.
template <typename CharT>
struct hash<std::basic_string<CharT>> {
	using is_avalanching = void;
	using is_transparent = void;
	auto operator()(std::basic_string_view<CharT> const& sv) const noexcept -> std::uint64_t {
		return static_cast<std::uint64_t>(std::hash<std::basic_string_view<CharT>>{}(sv));
	}
};
template <typename CharT>
struct hash<std::basic_string_view<CharT>> {
	using is_avalanching = void;
	using is_transparent = void;
	auto operator()(std::basic_string_view<CharT> const& sv) const noexcept -> std::uint64_t {
		return static_cast<std::uint64_t>(std::hash<std::basic_string_view<CharT>>{}(sv));
	}
};

template <class Key, class T, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<std::pair<const Key, T>>>
using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

template <class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<Key>>
using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;

template <class Key, class T, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<std::pair<const Key, T>>>
using segmented_map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

template <class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Allocator = std::allocator<Key>>
using segmented_set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace v4_8_1
} // namespace ankerl::unordered_dense

#endif // ANKERL_UNORDERED_DENSE_H
