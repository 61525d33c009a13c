"""A TCP relay in front of PostgreSQL that makes chosen server logins slow or fail.

A real server logs in within milliseconds and fails only when told to for good;
these tests need one login to hang while another server works, or one login to
fail while the pool's other servers stay healthy."""

import socket
import threading
import time


class LoginProxy:
    """Listens on a free loopback port; the n-th connection (from 0) is handled as
    `plan(n)` says: ("forward", delay_s) relays it once delay_s has passed, ("close",)
    closes it at once."""

    def __init__(self, target_port, plan):
        self.target_port = target_port
        self.plan = plan
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.sockets = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            index, self.accepted = self.accepted, self.accepted + 1
            self.sockets.append(client)
            threading.Thread(target=self._serve, args=(client, self.plan(index)), daemon=True).start()

    def _serve(self, client, how):
        if how[0] == "close":
            client.close()
            return
        time.sleep(how[1])
        if self.closed:
            client.close()
            return
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        self.sockets.append(server)
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        """Ends every relayed connection: shutdown() wakes the threads blocked reading them."""
        self.closed = True
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
