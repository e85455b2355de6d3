Console.WriteLine("kgglm");
