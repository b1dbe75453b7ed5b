;; The core type section's non-final core:subtype prefix (Binary.md: 0x00 0x50
;; supertypes comptype; a bare 0x50 is a core module type): a func subtype
;; without supertypes loads as that func type and can be used by a module
;; type's import; supertypes are refused with a clear message.

(component binary
  "\00asm" "\0d\00\01\00"
  "\03\08" "\01" "\00\50" "\00" "\60\01\7f\00"   ;; core type 0: sub (func (param i32))
  "\03\0e" "\01" "\50\02"                        ;; core type 1: module type, 2 decls
    "\01\60\00\00"                               ;;   type 0: func
    "\00\01m\01f\00\00"                          ;;   import "m" "f" (func (type 0))
)

(assert_invalid
  (component binary
    "\00asm" "\0d\00\01\00"
    "\03\04" "\01" "\60\00\00"                   ;; core type 0: func
    "\03\08" "\01" "\00\50" "\01\00" "\60\00\00" ;; core type 1: sub of type 0
  )
  "core subtypes with supertypes are not supported"
)
