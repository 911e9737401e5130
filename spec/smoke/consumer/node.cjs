const { run } = require("skein");
const { exec } = require("skein/node");

run(function* () {
  return (yield* exec(process.execPath, ["-e", "console.log('echo ping')"])).stdout.trim();
}).then((out) => console.log(out));
