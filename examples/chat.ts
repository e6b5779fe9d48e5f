// The README's "Terminal chat" example: `OLLAMA_MODEL=llama3.2 node dist/examples/chat.js`.
// Ctrl-C stops the reply being written; `/bye` or Ctrl-D at the prompt ends the chat.
import { createInterface } from 'node:readline';
import { chatStream, isOllamaError, type Message } from '../lib/index.ts';

const model = process.env.OLLAMA_MODEL || 'llama3.2';
const history: Message[] = [];
let replying: AbortController | undefined;

const terminal = createInterface({ input: process.stdin, output: process.stdout, prompt: '>>> ' });
// A terminal delivers Ctrl-C to readline, `kill -INT` to the process: either stops the reply, not the chat.
const interrupt = () => (replying === undefined ? terminal.close() : replying.abort());
terminal.on('SIGINT', interrupt);
process.on('SIGINT', interrupt);

terminal.prompt();
for await (const line of terminal) {
  if (line.trim() === '/bye') break;
  if (line.trim() !== '') {
    history.push({ role: 'user', content: line });
    replying = new AbortController();
    let answer = '';
    try {
      for await (const chunk of chatStream({ model, messages: history }, { signal: replying.signal })) {
        process.stdout.write(chunk.message.content);
        answer += chunk.message.content;
      }
    } catch (error) {
      if (!replying.signal.aborted && !isOllamaError(error)) throw error;
      process.stderr.write(replying.signal.aborted ? '\n[stopped]' : `\n${(error as Error).message}`);
    }
    replying = undefined;
    process.stdout.write('\n');
    // The model should see what the user saw, a cut reply included; a question left unanswered is dropped.
    if (answer === '') history.pop();
    else history.push({ role: 'assistant', content: answer });
  }
  terminal.prompt();
}
// Leaving the loop with `break` does not stop readline reading stdin on Node 20, and that would hold the
// process open until the user closed the input too.
terminal.close();
