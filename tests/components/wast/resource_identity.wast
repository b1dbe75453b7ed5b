;; Resource identity (Explainer.md "Type Checking": resource types are
;; generative). wasmgate's own cases for the rules cm_collect_defs,
;; cm_freshen and cm_refers_free_resource implement.

;; Every instantiation of a component makes new resource types: the
;; resource of instance one is not the resource of instance two.
(assert_invalid
  (component
    (component $Owner
      (type $t (export "t") (resource (rep i32))))
    (instance $one (instantiate $Owner))
    (instance $two (instantiate $Owner))
    (alias export $one "t" (type $t1))
    (alias export $two "t" (type $t2))
    (component $Same
      (import "x" (type $x (sub resource)))
      (import "y" (type (eq $x))))
    (instance (instantiate $Same (with "x" (type $t1)) (with "y" (type $t2)))))
  "resource types are not the same")

;; ...while the same instance's resource, aliased twice, is one type.
(component
  (component $Owner
    (type $t (export "t") (resource (rep i32))))
  (instance $one (instantiate $Owner))
  (alias export $one "t" (type $a))
  (alias export $one "t" (type $b))
  (component $Same
    (import "x" (type $x (sub resource)))
    (import "y" (type (eq $x))))
  (instance (instantiate $Same (with "x" (type $a)) (with "y" (type $b)))))

;; Two imports of one instance type are two instances: each has its own
;; abstract resource, and a function of one does not take the other's.
(assert_invalid
  (component
    (type $Api (instance
      (export "h" (type $h (sub resource)))
      (export "make" (func (result (own $h))))))
    (import "left" (instance $left (type $Api)))
    (import "right" (instance $right (type $Api)))
    (component $User
      (import "h" (type $h (sub resource)))
      (import "make" (func (result (own $h)))))
    (instance (instantiate $User
      (with "h" (type $left "h"))
      (with "make" (func $right "make")))))
  "resource types are not the same")

;; The same, through an imported component type instantiated twice.
(assert_invalid
  (component
    (import "maker" (component $Maker
      (export "h" (type (sub resource)))))
    (instance $m1 (instantiate $Maker))
    (instance $m2 (instantiate $Maker))
    (component $Same
      (import "x" (type $x (sub resource)))
      (import "y" (type (eq $x))))
    (instance (instantiate $Same (with "x" (type $m1 "h")) (with "y" (type $m2 "h")))))
  "resource types are not the same")

;; Two instance-typed exports of one imported instance are distinct too.
(assert_invalid
  (component
    (import "pair" (instance $p
      (type $Half (instance (export "h" (type (sub resource)))))
      (export "l" (instance (type $Half)))
      (export "r" (instance (type $Half)))))
    (component $Same
      (import "x" (type $x (sub resource)))
      (import "y" (type (eq $x))))
    (instance (instantiate $Same (with "x" (type $p "l" "h")) (with "y" (type $p "r" "h")))))
  "resource types are not the same")

;; A resource reached through a child instance's export is not local to the
;; parent: no resource.new or resource.rep there, though it may be dropped.
(assert_invalid
  (component
    (component $Owner
      (type $t (resource (rep i32)))
      (export "t" (type $t)))
    (instance $o (instantiate $Owner))
    (alias export $o "t" (type $t))
    (core func (canon resource.new $t)))
  "not a local resource")
(component
  (component $Owner
    (type $t (resource (rep i32)))
    (export "t" (type $t)))
  (instance $o (instantiate $Owner))
  (alias export $o "t" (type $t))
  (core func (canon resource.drop $t)))

;; An outer alias across a component boundary may not carry a resource
;; inside a component type; a component type that binds its own resources
;; may cross.
(assert_invalid
  (component
    (type $t (resource (rep i32)))
    (type $CT (component (export "e" (type (eq $t)))))
    (component (alias outer 1 1 (type))))
  "transitively refers to resources")
(component
  (type $CT (component
    (import "p" (type $p (sub resource)))
    (export "e" (type (eq $p)))
    (export "own" (type (sub resource)))))
  (component (alias outer 1 0 (type))))

;; Core memory types in module types are bounded as in core modules.
(assert_invalid
  (component
    (core type (module (import "m" "mem" (memory 65537)))))
  "memory size must be at most")

;; Component types check external visibility where they are declared;
;; instance types only where they are attached to an import or export.
(assert_invalid
  (component
    (type (component
      (type $pt (record (field "x" u32) (field "y" u32)))
      (export "origin" (func (result $pt))))))
  "func not valid to be used as export")
(assert_invalid
  (component
    (type (component
      (export "h" (type $h (sub resource)))
      (import "take" (func (param "v" (own $h)))))))
  "func not valid to be used as import")
(component
  (type (instance
    (type $pt (record (field "x" u32) (field "y" u32)))
    (export "origin" (func (result $pt))))))

;; A type a bag of exports exports is a new name, as a component's exported
;; types are: a `[constructor]` made before the bag returns the original
;; resource, which has no name in the bag; plain functions may still go
;; along with the resource.
(assert_invalid
  (component
    (type $res (resource (rep i32)))
    (core module $m (func (export "mk") (result i32) unreachable))
    (core instance $i (instantiate $m))
    (func $mk (result (own $res)) (canon lift (core func $i "mk")))
    (instance
      (export "res" (type $res))
      (export "[constructor]res" (func $mk))))
  "resource used in function does not have a name in this context")
(component
  (type $res (resource (rep i32)))
  (core module $m (func (export "mk") (result i32) unreachable))
  (core instance $i (instantiate $m))
  (func $mk (result (own $res)) (canon lift (core func $i "mk")))
  (instance
    (export "res" (type $res))
    (export "make" (func $mk))))

;; An imported instance gets fresh resources, and a type that mentions one
;; (the variant below holds an own<cas>) is copied once for all its uses: the
;; exported name "cas-error" and the function result that names it stay one
;; type (wasi:keyvalue@0.2.0-draft2's atomics has this shape; it was refused
;; with "instance not valid to be used as import").
(component
  (import "x:kv/atomics" (instance
    (export "cas" (type $cas (sub resource)))
    (type $o (own $cas))
    (type $v (variant (case "cas-failed" $o) (case "other" string)))
    (export "cas-error" (type $ce (eq $v)))
    (type $r (result (error $ce)))
    (export "swap" (func (param "cas" $o) (result $r))))))
