/** Test models: seeded random GGUF files (gibberish by design) for tests, demos and benchmarks. */
export { writeTestModel, TEST_MODEL_SHAPES, type WriteTestModelOptions, type TestModelInfo, type TestModelShape, type TestModelShapeName, type TestModelQuant } from './write.js'
export { testVocabulary, SPECIAL_TOKENS, CHATML_TEMPLATE, FIM_TOKENS } from './tokenizer.js'
export { writeScriptedModel, filesAnswerPieces, type WriteScriptedModelOptions } from './scripted.js'
