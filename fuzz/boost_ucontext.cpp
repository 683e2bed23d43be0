// The sanitized build's boost::context fibers are the ucontext ones
// (BOOST_USE_UCONTEXT, CMakeLists.txt), whose stack switches ASan is told
// about (BOOST_USE_ASAN).  Their one out-of-line function,
// fiber_activation_record::current(), lives in libboost_context only when
// that library was itself built for ucontext; Debian's is built for
// fcontext (assembly), so the sanitized build defines it here: each thread's
// current record, at first its own main-context record.
#if !defined(BOOST_USE_UCONTEXT)
#error "fuzz/boost_ucontext.cpp belongs to the sanitized build (BOOST_USE_UCONTEXT)"
#endif
#include <boost/context/fiber.hpp>

namespace boost {
namespace context {
namespace detail {

fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local fiber_activation_record main_record;
  thread_local fiber_activation_record* current_record = &main_record;
  return current_record;
}

}  // namespace detail
}  // namespace context
}  // namespace boost
