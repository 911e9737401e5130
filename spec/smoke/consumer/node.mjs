// skein/node from the package: a server and a client on one scheduler of skein's own.
import { run } from "skein";
import { connect, listen } from "skein/node";

const reply = await run(function* () {
  const server = yield* listen({ port: 0 }, function* (socket) {
    yield* socket.write(`echo ${yield* socket.readLine()}\n`);
  });
  const socket = yield* connect(server.port);
  yield* socket.write("ping\n");
  return yield* socket.readLine();
});
console.log(reply);
