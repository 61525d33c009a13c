// The least a proxy can do per transaction, as a yardstick for the poolers'
// CPU figures (bench/floor.py): one thread, one io_uring, each client paired
// with a server connection of its own (session mode: no pool, no parsing, no
// login of its own), bytes passed on as they come, one system call per turn of
// the loop for all the reads and sends it has. Whatever a pooler spends per
// transaction above this relay's CPU is its own work (parsing, pooling, its
// event loop's layers), not the kernel's nor the protocol's.
//
//   relay_floor LISTEN_PORT SERVER_PORT      (both on 127.0.0.1; SIGTERM stops it)
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

// The exit status when io_uring cannot be used here.
constexpr int kNoRing = 3;

// pgbench's queries and answers fit; a larger answer just takes several turns.
constexpr size_t kBufferSize = 16 * 1024;

struct Pair;

// One way through a pair: read from `from` into `data`, send it whole to `to`, read again.
struct Direction {
  Pair* pair = nullptr;
  int from = -1;
  int to = -1;
  bool stopped = false;
  size_t filled = 0;
  size_t sent = 0;
  unsigned char data[kBufferSize];
};

struct Pair {
  Direction up;    // client to server
  Direction down;  // server to client
};

// A completion's user_data: 0 for the listener's accept, else the direction's
// address with the low bit set for a send (Direction is at least 8-aligned).
constexpr uint64_t kSendBit = 1;

class Relay {
 public:
  Relay(int listener, sockaddr_in server) : listener_(listener), server_(server) {}

  bool open() {
    io_uring_params params{};
    // Completions are reaped by this thread only, when it enters the kernel anyway.
    params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    return io_uring_queue_init_params(8192, &ring_, &params) == 0;
  }

  void run() {
    accept_next();
    while (!stop_requested) {
      if (io_uring_submit_and_wait(&ring_, 1) < 0) continue;  // EINTR: SIGTERM, checked above
      io_uring_cqe* cqe;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        complete(cqe->user_data, cqe->res);
      }
      io_uring_cq_advance(&ring_, seen);
    }
  }

  static volatile std::sig_atomic_t stop_requested;

 private:
  io_uring_sqe* next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {  // more operations this turn than the ring holds: hand these over first
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void accept_next() {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_accept(sqe, listener_, nullptr, nullptr, 0);
    io_uring_sqe_set_data64(sqe, 0);
  }

  void read_into(Direction& d) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_recv(sqe, d.from, d.data, kBufferSize, 0);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(&d));
  }

  void send_from(Direction& d) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_send(sqe, d.to, d.data + d.sent, d.filled - d.sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(&d) | kSendBit);
  }

  void complete(uint64_t tag, int result) {
    if (tag == 0) {
      accept_next();
      if (result >= 0) pair_with_server(result);
      return;
    }
    Direction& d = *reinterpret_cast<Direction*>(tag & ~kSendBit);
    if (result <= 0) {
      stop(d);
      return;
    }
    if (tag & kSendBit) {
      d.sent += static_cast<size_t>(result);
      if (d.sent < d.filled) {
        send_from(d);
        return;
      }
      d.filled = d.sent = 0;
      read_into(d);
    } else {
      d.filled = static_cast<size_t>(result);
      d.sent = 0;
      send_from(d);
    }
  }

  void pair_with_server(int client) {
    // A blocking connect: pairs are made once, before the measured transactions.
    int server = socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0 || connect(server, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0) {
      std::perror("relay_floor: connect to the server");
      if (server >= 0) close(server);
      close(client);
      return;
    }
    no_delay(client);
    no_delay(server);
    auto* pair = new Pair{};
    pair->up.pair = pair->down.pair = pair;
    pair->up.from = pair->down.to = client;
    pair->up.to = pair->down.from = server;
    read_into(pair->up);
    read_into(pair->down);
  }

  // One side ended or failed: shut both sockets down, which ends the other
  // direction's operation too; the pair goes when both have stopped.
  static void stop(Direction& d) {
    Pair& pair = *d.pair;
    if (!pair.up.stopped && !pair.down.stopped) {
      shutdown(pair.up.from, SHUT_RDWR);
      shutdown(pair.up.to, SHUT_RDWR);
    }
    d.stopped = true;
    if (pair.up.stopped && pair.down.stopped) {
      close(pair.up.from);
      close(pair.up.to);
      delete &pair;
    }
  }

  static void no_delay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  io_uring ring_{};
  int listener_;
  sockaddr_in server_;
};

volatile std::sig_atomic_t Relay::stop_requested = 0;

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: relay_floor LISTEN_PORT SERVER_PORT\n");
    return 2;
  }
  const sockaddr_in address = loopback(std::atoi(argv[1]));
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 || listen(listener, 4096) != 0) {
    std::perror("relay_floor: listen");
    return 1;
  }
  struct sigaction on_term {};
  on_term.sa_handler = [](int) { Relay::stop_requested = 1; };
  sigaction(SIGTERM, &on_term, nullptr);  // no SA_RESTART: the wait returns EINTR
  Relay relay(listener, loopback(std::atoi(argv[2])));
  if (!relay.open()) {
    // A status of its own: bench/floor.py then leaves the floor out rather than fail (containers often forbid it).
    std::fprintf(stderr, "relay_floor: io_uring is not available here\n");
    return kNoRing;
  }
  relay.run();
  return 0;
}
