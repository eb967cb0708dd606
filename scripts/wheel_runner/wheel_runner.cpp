// wheel_runner: a small ExecuTorch runner built against the pip wheel's C++ package.
//
// Why it exists: the wheel ships the runtime, the XNNPACK delegate, the optimized
// kernels, the thread pool and the ETDump library, but no executor_runner. This file
// is the few hundred lines that turn them into one, so a reader gets a native runner
// in seconds instead of a five-minute source build. It speaks executor_runner's flags
// and prints its `Iteration i of N: X ms` lines, so the pipeline treats both alike.
//
// Flags (executor_runner's, `--flag value` or `--flag=value`):
//   --model_path PATH       the .pte to run (default model.pte)
//   --etdump_path PATH      where the ETDump goes (default etdump.etdp)
//   --num_executions N      how many executions, all recorded in the ETDump (default 1)
//   --cpu_threads N         thread-pool size; -1 keeps the runtime's default (default -1)
//   --method_name NAME      method to run (default: the program's first method)
//   --cpu_features          print the identity and CPU-feature lines and exit; this is
//                           how an emulator's CPU is probed from inside (see below)
//
// Every start prints two lines the kit parses:
//   wheel_runner: executorch <version> (<commit>) platform <p> compiler <c> threadpool <yes|no>
//   cpu_features: arch=aarch64 source=getauxval sve=1 sve2=1 sme=1 sme2=0 ...
// The CPU features are read the way XNNPACK's cpuinfo reads them (the kernel's hwcaps),
// so under qemu-aarch64 they describe the emulated CPU as the program inside sees it.
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <executorch/devtools/etdump/etdump_flatcc.h>
#include <executorch/extension/data_loader/file_data_loader.h>
#include <executorch/extension/memory_allocator/malloc_memory_allocator.h>
#include <executorch/runtime/core/evalue.h>
#include <executorch/runtime/core/exec_aten/util/dim_order_util.h>
#include <executorch/runtime/executor/method.h>
#include <executorch/runtime/executor/program.h>
#include <executorch/runtime/platform/runtime.h>

#if defined(__linux__) && defined(__aarch64__)
#include <sys/auxv.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#ifdef ET_USE_THREADPOOL
// The wheel ships libexecutorch_threadpool but not its header threadpool.h, so the two
// calls used here are declared by hand, with the signatures the library exports
// (checked with `nm -DC libexecutorch_threadpool.so`). Only pointers to ThreadPool are
// used, so its layout does not matter here.
namespace executorch::extension::threadpool {
class ThreadPool final {
 public:
  size_t get_thread_count() const;
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool
#endif

#ifndef WHEEL_RUNNER_ET_VERSION
#define WHEEL_RUNNER_ET_VERSION "unknown"
#endif
#ifndef WHEEL_RUNNER_ET_COMMIT
#define WHEEL_RUNNER_ET_COMMIT "unknown"
#endif
#ifndef WHEEL_RUNNER_PLATFORM
#define WHEEL_RUNNER_PLATFORM "unknown"
#endif

namespace {

using executorch::extension::FileDataLoader;
using executorch::extension::MallocMemoryAllocator;
using executorch::runtime::Error;
using executorch::runtime::EValue;
using executorch::runtime::HierarchicalAllocator;
using executorch::runtime::MemoryManager;
using executorch::runtime::Method;
using executorch::runtime::MethodMeta;
using executorch::runtime::Program;
using executorch::runtime::Result;
using executorch::runtime::Span;
using executorch::aten::ScalarType;

struct Options {
  std::string model_path = "model.pte";
  std::string etdump_path = "etdump.etdp";
  std::string method_name;
  long num_executions = 1;
  long cpu_threads = -1;
  bool cpu_features_only = false;
};

const char* kUsage =
    "usage: wheel_runner --model_path M.pte [--etdump_path OUT.etdp] [--num_executions N]\n"
    "                    [--cpu_threads T] [--method_name NAME] | --cpu_features\n"
    "example: wheel_runner --model_path out/artifacts/toy_cnn/toy_cnn_fp32.pte "
    "--etdump_path /tmp/toy.etdp --num_executions 5 --cpu_threads 1\n";

int fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "error: %s%s\n%s", what, detail.c_str(), kUsage);
  return 2;
}

bool parse_long(const std::string& text, long* out) {
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') return false;
  *out = value;
  return true;
}

// Returns 0 on success, otherwise the process exit code (2 for bad flags, -1 for --help).
int parse_args(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return -1;
    if (arg == "--cpu_features") {
      opts->cpu_features_only = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return fail("unexpected argument: ", arg);
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail("missing value for ", arg);
    }
    if (name == "model_path") {
      opts->model_path = value;
    } else if (name == "etdump_path") {
      opts->etdump_path = value;
    } else if (name == "method_name") {
      opts->method_name = value;
    } else if (name == "num_executions") {
      if (!parse_long(value, &opts->num_executions) || opts->num_executions < 1)
        return fail("--num_executions needs a whole number >= 1, got ", value);
    } else if (name == "cpu_threads") {
      if (!parse_long(value, &opts->cpu_threads) || opts->cpu_threads < -1 || opts->cpu_threads == 0)
        return fail("--cpu_threads needs -1 (runtime default) or a number >= 1, got ", value);
    } else {
      return fail("unknown flag --", name);
    }
  }
  return 0;
}

void print_identity() {
#ifdef ET_USE_THREADPOOL
  const char* threadpool = "yes";
#else
  const char* threadpool = "no";
#endif
  std::printf("wheel_runner: executorch %s (%s) platform %s compiler %s threadpool %s\n",
              WHEEL_RUNNER_ET_VERSION, WHEEL_RUNNER_ET_COMMIT, WHEEL_RUNNER_PLATFORM,
              __VERSION__, threadpool);
}

// One `cpu_features:` line, `name=0|1` pairs. The names match the manifest's
// host.cpu_features keys (sme, sme2, sve, ...).
void print_cpu_features() {
  std::string line = "cpu_features:";
  auto add = [&line](const char* name, bool present) {
    line += " ";
    line += name;
    line += present ? "=1" : "=0";
  };
#if defined(__linux__) && defined(__aarch64__)
  // Bit numbers from the Linux UAPI <asm/hwcap.h>, spelled out because an older
  // sysroot (Debian 12: linux 6.1 headers) lacks the SME2 bits.
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  line += " arch=aarch64 source=getauxval";
  add("asimd", hw & (1UL << 1));
  add("fphp", hw & (1UL << 9));
  add("asimdhp", hw & (1UL << 10));
  add("asimddp", hw & (1UL << 20));
  add("sve", hw & (1UL << 22));
  add("asimdfhm", hw & (1UL << 23));
  add("sve2", hw2 & (1UL << 1));
  add("svei8mm", hw2 & (1UL << 9));
  add("svebf16", hw2 & (1UL << 12));
  add("i8mm", hw2 & (1UL << 13));
  add("bf16", hw2 & (1UL << 14));
  add("sme", hw2 & (1UL << 23));
  add("sme_i8i32", hw2 & (1UL << 26));
  add("sme_f16f32", hw2 & (1UL << 27));
  add("sme_f32f32", hw2 & (1UL << 29));
  add("sme_fa64", hw2 & (1UL << 30));
  add("sve2p1", hw2 & (1UL << 36));
  add("sme2", hw2 & (1UL << 37));
  add("sme2p1", hw2 & (1UL << 38));
  std::printf("hwcaps: hwcap=0x%lx hwcap2=0x%lx\n", hw, hw2);
#elif defined(__APPLE__) && defined(__aarch64__)
  auto sysctl_flag = [](const char* name) {
    int value = 0;
    size_t size = sizeof(value);
    return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
  };
  line += " arch=arm64 source=sysctl";
  add("asimddp", sysctl_flag("hw.optional.arm.FEAT_DotProd"));
  add("i8mm", sysctl_flag("hw.optional.arm.FEAT_I8MM"));
  add("bf16", sysctl_flag("hw.optional.arm.FEAT_BF16"));
  add("sve", false);  // no Apple core has SVE outside streaming mode
  add("sme", sysctl_flag("hw.optional.arm.FEAT_SME"));
  add("sme2", sysctl_flag("hw.optional.arm.FEAT_SME2"));
#elif defined(__x86_64__)
  line += " arch=x86_64 source=cpuid";
  add("avx2", __builtin_cpu_supports("avx2"));
  add("avx512f", __builtin_cpu_supports("avx512f"));
  add("sve", false);
  add("sme", false);
  add("sme2", false);
#else
  line += " arch=unknown source=none";
#endif
  std::printf("%s\n", line.c_str());
}

size_t element_size(ScalarType type) {
  switch (type) {
    case ScalarType::Byte:
    case ScalarType::Char:
    case ScalarType::Bool:
      return 1;
    case ScalarType::Short:
    case ScalarType::Half:
    case ScalarType::BFloat16:
      return 2;
    case ScalarType::Int:
    case ScalarType::Float:
      return 4;
    case ScalarType::Long:
    case ScalarType::Double:
      return 8;
    default:
      return 0;
  }
}

// Writes the value one, in `type`, `count` times. executor_runner feeds ones too, so
// ETDumps from both runners come from the same inputs.
bool fill_ones(void* data, ScalarType type, size_t count) {
  auto fill = [count](auto* p, auto one) {
    for (size_t i = 0; i < count; ++i) p[i] = one;
  };
  switch (type) {
    case ScalarType::Float: fill(static_cast<float*>(data), 1.0f); return true;
    case ScalarType::Double: fill(static_cast<double*>(data), 1.0); return true;
    case ScalarType::Half: fill(static_cast<uint16_t*>(data), uint16_t{0x3C00}); return true;
    case ScalarType::BFloat16: fill(static_cast<uint16_t*>(data), uint16_t{0x3F80}); return true;
    case ScalarType::Long: fill(static_cast<int64_t*>(data), int64_t{1}); return true;
    case ScalarType::Int: fill(static_cast<int32_t*>(data), int32_t{1}); return true;
    case ScalarType::Short: fill(static_cast<int16_t*>(data), int16_t{1}); return true;
    case ScalarType::Char: fill(static_cast<int8_t*>(data), int8_t{1}); return true;
    case ScalarType::Byte:
    case ScalarType::Bool: fill(static_cast<uint8_t*>(data), uint8_t{1}); return true;
    default: return false;
  }
}

// Owns one input tensor's storage for the lifetime of the method.
struct InputTensor {
  std::vector<int32_t> sizes;
  std::vector<uint8_t> dim_order;
  std::vector<int32_t> strides;
  std::vector<uint8_t> data;
  std::unique_ptr<executorch::aten::TensorImpl> impl;
};

int set_inputs_to_ones(Method& method, const MethodMeta& meta,
                       std::vector<std::unique_ptr<InputTensor>>* inputs) {
  for (size_t i = 0; i < meta.num_inputs(); ++i) {
    auto tag = meta.input_tag(i);
    if (!tag.ok() || tag.get() != executorch::runtime::Tag::Tensor) {
      std::fprintf(stderr, "error: input %zu is not a tensor; this runner fills tensor inputs only\n", i);
      return 1;
    }
    auto info = meta.input_tensor_meta(i);
    if (!info.ok()) return fail("cannot read the meta data of input ", std::to_string(i));
    auto input = std::make_unique<InputTensor>();
    input->sizes.assign(info->sizes().begin(), info->sizes().end());
    input->dim_order.assign(info->dim_order().begin(), info->dim_order().end());
    input->strides.resize(input->sizes.size());
    if (!input->sizes.empty() &&
        executorch::runtime::dim_order_to_stride(input->sizes.data(), input->dim_order.data(),
                                                 input->sizes.size(), input->strides.data()) != Error::Ok) {
      return fail("bad dim order for input ", std::to_string(i));
    }
    size_t count = 1;
    for (int32_t s : input->sizes) count *= static_cast<size_t>(s);
    const size_t elem = element_size(info->scalar_type());
    input->data.resize(count * elem + 1);
    if (elem == 0 || !fill_ones(input->data.data(), info->scalar_type(), count)) {
      return fail("unsupported input dtype (ScalarType id) ",
                  std::to_string(static_cast<int>(info->scalar_type())));
    }
    input->impl = std::make_unique<executorch::aten::TensorImpl>(
        info->scalar_type(), static_cast<ssize_t>(input->sizes.size()), input->sizes.data(),
        input->data.data(), input->dim_order.data(), input->strides.data());
    Error err = method.set_input(EValue(executorch::aten::Tensor(input->impl.get())), i);
    if (err != Error::Ok) {
      std::fprintf(stderr, "error: set_input %zu failed (error 0x%" PRIx32 ")\n", i,
                   static_cast<uint32_t>(err));
      return 1;
    }
    inputs->push_back(std::move(input));
  }
  return 0;
}

int write_etdump(executorch::etdump::ETDumpGen& etdump, const std::string& path) {
  executorch::etdump::ETDumpResult result = etdump.get_etdump_data();
  if (result.buf == nullptr || result.size == 0) {
    std::fprintf(stderr, "error: the ETDump is empty: nothing was recorded\n");
    return 1;
  }
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    std::fprintf(stderr, "error: cannot write the ETDump to '%s': %s\n", path.c_str(), std::strerror(errno));
    std::free(result.buf);
    return 1;
  }
  const size_t written = std::fwrite(result.buf, 1, result.size, file);
  const bool ok = written == result.size && std::fclose(file) == 0;
  std::free(result.buf);
  if (!ok) {
    std::fprintf(stderr, "error: short write of the ETDump to '%s'\n", path.c_str());
    return 1;
  }
  std::printf("ETDump written to file '%s' (%zu bytes).\n", path.c_str(), result.size);
  return 0;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

int configure_threads(long cpu_threads) {
#ifdef ET_USE_THREADPOOL
  auto* pool = executorch::extension::threadpool::get_threadpool();
  if (pool == nullptr) {
    std::fprintf(stderr, "error: the thread pool could not be created\n");
    return 1;
  }
  if (cpu_threads > 0 && !pool->_unsafe_reset_threadpool(static_cast<uint32_t>(cpu_threads))) {
    std::fprintf(stderr, "error: could not resize the thread pool to %ld threads\n", cpu_threads);
    return 1;
  }
  std::printf("threads: %zu\n", pool->get_thread_count());
#else
  if (cpu_threads > 1) {
    std::fprintf(stderr, "error: built without the thread pool; --cpu_threads %ld cannot be honoured\n",
                 cpu_threads);
    return 1;
  }
  std::printf("threads: 1\n");
#endif
  return 0;
}

int run(const Options& opts) {
  executorch::runtime::runtime_init();
  if (int rc = configure_threads(opts.cpu_threads)) return rc;

  auto start = std::chrono::steady_clock::now();
  Result<FileDataLoader> loader = FileDataLoader::from(opts.model_path.c_str());
  if (!loader.ok()) {
    std::fprintf(stderr, "error: cannot open the model '%s' (error 0x%" PRIx32 ")\n",
                 opts.model_path.c_str(), static_cast<uint32_t>(loader.error()));
    return 1;
  }
  Result<Program> program = Program::load(&loader.get());
  if (!program.ok()) {
    std::fprintf(stderr, "error: '%s' is not a loadable ExecuTorch program (error 0x%" PRIx32 ")\n",
                 opts.model_path.c_str(), static_cast<uint32_t>(program.error()));
    return 1;
  }
  std::string method_name = opts.method_name;
  if (method_name.empty()) {
    auto first = program->get_method_name(0);
    if (!first.ok()) return fail("the program has no methods: ", opts.model_path);
    method_name = *first;
  }
  Result<MethodMeta> meta = program->method_meta(method_name.c_str());
  if (!meta.ok()) return fail("the program has no method named ", method_name);
  std::printf("Model file %s is loaded. Using method %s\n", opts.model_path.c_str(), method_name.c_str());

  // Memory-planned buffers sized from the method meta; everything else from malloc, so
  // models of any size load without a fixed pool.
  std::vector<std::unique_ptr<uint8_t[]>> planned;
  std::vector<Span<uint8_t>> planned_spans;
  for (size_t id = 0; id < meta->num_memory_planned_buffers(); ++id) {
    const size_t size = static_cast<size_t>(meta->memory_planned_buffer_size(id).get());
    planned.push_back(std::make_unique<uint8_t[]>(size));
    planned_spans.emplace_back(planned.back().get(), size);
  }
  HierarchicalAllocator planned_memory({planned_spans.data(), planned_spans.size()});
  MallocMemoryAllocator method_allocator;
  MallocMemoryAllocator temp_allocator;
  MemoryManager memory_manager(&method_allocator, &planned_memory, &temp_allocator);

  executorch::etdump::ETDumpGen etdump;
  Result<Method> method = program->load_method(method_name.c_str(), &memory_manager, &etdump);
  if (!method.ok()) {
    std::fprintf(stderr, "error: loading method %s failed (error 0x%" PRIx32 "); an operator or "
                 "delegate the model needs may be missing from this runtime\n",
                 method_name.c_str(), static_cast<uint32_t>(method.error()));
    return 1;
  }
  std::printf("Model loaded in %f ms.\n", ms_since(start));

  std::vector<std::unique_ptr<InputTensor>> inputs;
  if (int rc = set_inputs_to_ones(*method, *meta, &inputs)) return rc;

  double total_ms = 0;
  for (long i = 0; i < opts.num_executions; ++i) {
    auto iteration_start = std::chrono::steady_clock::now();
    Error err = method->execute();
    const double elapsed = ms_since(iteration_start);
    if (err != Error::Ok) {
      std::fprintf(stderr, "error: execution %ld failed (error 0x%" PRIx32 ")\n", i + 1,
                   static_cast<uint32_t>(err));
      return 1;
    }
    total_ms += elapsed;
    std::printf("Iteration %ld of %ld: %f ms\n", i + 1, opts.num_executions, elapsed);
    std::fflush(stdout);
  }
  std::printf("Model executed successfully %ld time(s) in %f ms.\n", opts.num_executions, total_ms);
  std::printf("%zu outputs\n", method->outputs_size());
  return write_etdump(etdump, opts.etdump_path);
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  int rc = parse_args(argc, argv, &opts);
  if (rc == -1) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (rc != 0) return rc;
  print_identity();
  print_cpu_features();
  std::fflush(stdout);
  if (opts.cpu_features_only) return 0;
  return run(opts);
}
