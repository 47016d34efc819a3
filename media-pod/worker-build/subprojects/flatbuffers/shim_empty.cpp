// An empty translation unit: shim static libraries need one source.
namespace {
[[maybe_unused]] int amphi_shim_empty_translation_unit;
}
