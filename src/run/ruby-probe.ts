/**
 * The Ruby side of `--imports`: a file Ruby loads at start through `RUBYOPT=-r` (so the app is not changed)
 * that wraps `Kernel#require` (RubyGems' own wrapper included: the hook is installed after RubyGems loads)
 * and, around each require that loads a feature for the first time, reads Private_Clean + Private_Dirty
 * from /proc/self/smaps_rollup. The records have the Python probe's shape (run/import-probe.ts reads both):
 * one JSON line each, to a file of the process's own; a fork is seen through `Process._fork` (Ruby 3.1+),
 * which Kernel#fork and Process.fork both call. `require_relative` does not go through Kernel#require: a
 * file of the app required relatively is not a record, the gems it requires are (under the nearest record).
 * JSON is written by hand: requiring the json gem would load it in every probed process.
 */
export const REQUIRE_PROBE = String.raw`# memcompare's require probe (removed when the instrumented start ends).
module MemcompareRequireProbe
  @dir = ENV["MEMCOMPARE_IMPORTS_DIR"]
  @files = {}
  @stack = []
  @forked = false
  @busy = false

  class << self
    attr_reader :dir

    def private_bytes
      total = 0
      File.foreach("/proc/self/smaps_rollup") do |line|
        total += line.split[1].to_i * 1024 if line.start_with?("Private_Clean:", "Private_Dirty:")
      end
      total
    rescue SystemCallError
      0
    end

    def quote(text)
      '"' + text.to_s.gsub(/[\\"]/) { |c| "\\" + c }.gsub(/[\x00-\x1f]/) { |c| format("\\u%04x", c.ord) } + '"'
    end

    def write(line)
      pid = Process.pid
      file = @files[pid]
      unless file
        file = File.open(File.join(@dir, "imports-#{pid}.jsonl"), "a")
        file.sync = true
        file.write(%({"pid":#{pid},"ppid":#{Process.ppid},"forked":#{@forked},"startPrivateBytes":#{@start}}) + "\n")
        @files[pid] = file
      end
      file.write(line + "\n")
    rescue SystemCallError
      nil
    end

    def start
      @start = private_bytes
    end

    def forked!
      @forked = true
      @stack.clear
    end

    def around(name)
      return yield if @busy
      @busy = true
      before = private_bytes
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      @busy = false
      frame = [name, 0]
      @stack.push(frame)
      loaded = false
      begin
        loaded = yield
      ensure
        @stack.pop
        if loaded == true
          @busy = true
          inclusive = private_bytes - before
          parent = @stack.last
          parent[1] += inclusive if parent
          ms = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000
          write(%({"module":#{quote(name)},"parent":#{parent ? quote(parent[0]) : "null"},"inclusiveBytes":#{inclusive},"exclusiveBytes":#{inclusive - frame[1]},"ms":#{ms.round(3)},"afterFork":#{@forked}}))
          @busy = false
        end
      end
      loaded
    end
  end
end

if MemcompareRequireProbe.dir
  MemcompareRequireProbe.start
  module Kernel
    alias_method :memcompare_probe_require, :require
    def require(name)
      MemcompareRequireProbe.around(name.to_s) { memcompare_probe_require(name) }
    end
    private :require
  end
  if Process.respond_to?(:_fork)
    Process.singleton_class.prepend(Module.new do
      def _fork
        pid = super
        MemcompareRequireProbe.forked! if pid == 0
        pid
      end
    end)
  end
end
`;

/**
 * The advice applied for Ruby (run/early-imports.ts writes the Python one): loaded through `RUBYOPT=-r`, it
 * requires, in the server's first interpreter before it forks, the features its workers required after the
 * fork, and records what it required and what failed (a gem outside the load path before Bundler sets it up).
 */
export const EARLY_REQUIRES = String.raw`# memcompare: the workers' after-fork requires, made before the fork (removed when the runs end).
if (dir = ENV["MEMCOMPARE_EARLY_DIR"])
  done = []
  failed = []
  quote = ->(t) { '"' + t.to_s.gsub(/[\\"]/) { |c| "\\" + c }.gsub(/[\x00-\x1f]/) { |c| format("\\u%04x", c.ord) } + '"' }
  (ENV["MEMCOMPARE_EARLY_MODULES"] || "").split("\n").each do |name|
    next if name.empty?
    begin
      require name
      done << name
    rescue Exception => e # an require that raises or exits is left to the app
      failed << %({"module":#{quote.(name)},"error":#{quote.("#{e.class}: #{e.message}"[0, 200])}})
    end
  end
  begin
    File.write(File.join(dir, "early-#{Process.pid}.json"), %({"pid":#{Process.pid},"imported":[#{done.map(&quote).join(",")}],"failed":[#{failed.join(",")}]}))
  rescue SystemCallError
    nil
  end
end
`;
