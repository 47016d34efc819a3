/* An empty translation unit: shim static libraries need one source. */
typedef int amphi_shim_empty_translation_unit;
